"""`pcn-benchmark run` without PREFECT_API_URL: one temporary Prefect server serves the flow and
its render workers (each worker used to start a server of its own)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import FIXTURE_LANDING, FIXTURE_PERIOD, ROOT
from tests.integration.test_prefect_server import BIN, server_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _servers(root: psutil.Process) -> int:
    """Prefect API servers (uvicorn) running under `root`."""
    count = 0
    for proc in root.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # it may have ended since it was listed
            count += "uvicorn" in " ".join(proc.cmdline())
    return count


def test_a_run_without_an_api_url_starts_one_temporary_server(tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    home.mkdir()
    env = server_env(home) | {"PCN_BENCHMARK_RENDER_BATCH_SIZE": "1"}  # two batches, two workers
    command = [
        str(BIN / "pcn-benchmark"), "run", "--data-dir", str(FIXTURE_LANDING),
        "--out", str(tmp_path / "out"), "--period", FIXTURE_PERIOD,
        "--pcn", "U11625", "--pcn", "U62043",
    ]  # fmt: skip
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        run = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        root = psutil.Process(run.pid)
        most = 0
        while run.poll() is None:
            most = max(most, _servers(root))
            time.sleep(0.2)
    assert run.returncode == 0, log.read_text()[-3000:]
    assert most == 1, f"{most} Prefect servers ran at once"
    assert (tmp_path / "out" / "site" / "pdf" / "U62043.pdf").is_file()
