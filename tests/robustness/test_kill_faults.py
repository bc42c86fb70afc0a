"""`pcn-benchmark run` killed with SIGKILL (no clean-up possible) while landing, while dbt builds
and while pages are rendered, next to a real publication. Each time the landing zone and the last
publication survive byte for byte, the run lock is free again, and (after the render kill) the
next run publishes. Each stage is found by polling for its work files, never by a test hook."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.publish import run_lock
from tests.conftest import FIXTURE_PERIOD
from tests.robustness.conftest import NothingLost

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PCN = "U31970"  # one PCN's pages keep each run short (TRURO PCN, in the fixture)


def start_run(landing: Path, out: Path) -> subprocess.Popen:
    """The console script in its own session (so its dbt child can be ended with it), talking
    to this test session's Prefect API rather than starting a server of its own."""
    import prefect.settings

    env = {**os.environ, "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value()}
    command = [
        str(Path(sys.executable).with_name("pcn-benchmark")),
        *("run", "--period", FIXTURE_PERIOD, "--pcn", PCN),
        *("--data-dir", str(landing), "--out", str(out)),
    ]
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_when(run: subprocess.Popen, stage: str, reached: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 600
    while not reached():
        assert run.poll() is None, f"the run ended (exit {run.returncode}) before {stage}"
        assert time.monotonic() < deadline, f"{stage} not reached in 600 s"
        time.sleep(0.01)
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait(timeout=60) == -signal.SIGKILL
    # a dbt subprocess outlives its parent: end what this run started, by its group id
    with contextlib.suppress(ProcessLookupError):
        os.killpg(run.pid, signal.SIGKILL)


def new_work(out: Path, name: str) -> bool:
    return any((work / name).exists() for work in (out / "work").glob("*"))


def new_pages(out: Path, published: str) -> bool:
    return any(
        any(release.glob("pcn/*.html"))
        for release in (out / "releases").glob("*")
        if release.name != published
    )


def holds_lock(out: Path, pid: int) -> bool:
    lock = out / ".run.lock"
    return lock.exists() and lock.read_text(encoding="utf-8").startswith(f"pid {pid} ")


def assert_survived(guard: NothingLost, out: Path) -> None:
    guard.check()
    with run_lock(out):  # the killed run's lock was an OS lock: freed with the process
        pass


def test_killed_while_landing(prefect_harness, landing_copy: Path, published: Path):
    guard = NothingLost(landing_copy, published)
    run = start_run(landing_copy, published)
    # the run takes its lock, then lands (scans and checks every file against its manifest)
    kill_when(run, "landing", lambda: holds_lock(published, run.pid))
    assert not new_work(published, "parquet"), "killed too late: normalising had begun"
    assert_survived(guard, published)


def test_killed_while_dbt_builds(prefect_harness, landing_copy: Path, published: Path):
    guard = NothingLost(landing_copy, published)
    run = start_run(landing_copy, published)
    kill_when(run, "dbt build", lambda: new_work(published, "pcn_benchmark.duckdb"))
    assert not new_pages(published, guard.site_target.rsplit("/", 1)[-1])
    assert_survived(guard, published)


def test_killed_while_rendering_then_the_next_run_publishes(
    prefect_harness, landing_copy: Path, published: Path
):
    from flows.pipeline import publish_benchmark

    guard = NothingLost(landing_copy, published)
    before = guard.site_target.rsplit("/", 1)[-1]
    run = start_run(landing_copy, published)
    kill_when(run, "render", lambda: new_pages(published, before))
    assert_survived(guard, published)
    abandoned = {p.name for p in (published / "releases").iterdir()} - {before}
    assert len(abandoned) == 1  # half a release, never published

    summary = publish_benchmark(
        period=FIXTURE_PERIOD,
        data_dir=str(landing_copy),
        out_dir=str(published),
        pcn_codes=[PCN],
    )
    site = (published / "site").resolve()
    assert site.name == summary["release_id"] and site.name not in abandoned | {before}
    assert (site / "pcn" / f"{PCN}.html").is_file() and (site / "report.pdf").is_file()
