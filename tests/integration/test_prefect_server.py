"""The scheduled path end to end: a real `prefect server start`, the deployment served by
`pcn-benchmark serve`, runs triggered through the API; reruns, a killed run and a refused one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from flows import publish
from tests.conftest import FIXTURE_LANDING, FIXTURE_PERIOD, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BIN = Path(sys.executable).parent
DEPLOYMENT = "pcn-benchmark/e2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop a process group this test started (the server and the runner spawn children)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for(check, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def server_env(home: Path, **settings: str) -> dict[str, str]:
    """This environment without PREFECT_* settings, plus a Prefect home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        **settings,
    }


@contextmanager
def background(
    command: list[str], env: dict[str, str], log_path: Path, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """A process in its own session, its output in `log_path`; stopped (with its children) at
    the end of the block."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop(process)


@contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`prefect server start` on a free port of 127.0.0.1 until healthy; yields its API URL."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with background(command, env, log_path) as process:
        _wait_for(healthy, 180, "the Prefect server's /api/health", process)
        yield api


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server with its own PREFECT_HOME; yields the environment a client needs."""
    home = tmp_path_factory.mktemp("prefect_server")
    env = server_env(home)
    with running_server(env, home / "server.log") as api:
        yield env | {"PREFECT_API_URL": api}


def _client(env: dict[str, str], code: str) -> dict:
    """Run a small Prefect client script against the server; it prints one JSON object."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


TRIGGER = """
    import json
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    run = run_deployment(
        "{name}", parameters={{"period": "{period}", "force": {force}}}, timeout=900
    )
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    mine = [a for a in artifacts if a.flow_run_id == run.id]
    print(json.dumps({{
        "state": run.state.type.value,
        "artifacts": [{{"key": a.key, "type": a.type, "data": a.data}} for a in mine],
    }}))
"""

DEPLOYED = """
    import json
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        d = client.read_deployment_by_name("{name}")
    print(json.dumps({{"parameters": d.parameters}}))
"""


def _release_files(release: Path) -> dict[str, bytes]:
    """Every published file but those docs/ARCHITECTURE.md lets differ (manifest.json, GX Data
    Docs)."""
    return {
        p.relative_to(release).as_posix(): p.read_bytes()
        for p in sorted(release.rglob("*"))
        if p.is_file()
        and p.name != "manifest.json"
        and not p.relative_to(release).as_posix().startswith("quality/")
    }


def test_a_served_deployment_runs_through_the_api_and_reruns_identically(
    server: dict[str, str], tmp_path: Path
):
    out = tmp_path / "out"
    serve = [str(BIN / "pcn-benchmark"), "serve", "--name", "e2e", "--no-schedule"]
    serve += ["--data-dir", str(FIXTURE_LANDING), "--out", str(out)]
    with background(serve, server, tmp_path / "serve.log", cwd=tmp_path) as runner:

        def registered() -> bool:
            try:
                _client(server, DEPLOYED.format(name=DEPLOYMENT))
                return True
            except AssertionError:
                return False

        _wait_for(registered, 240, "the deployment to be registered", runner)
        deployed = _client(server, DEPLOYED.format(name=DEPLOYMENT))
        assert deployed["parameters"]["out_dir"] == str(out.resolve())

        first = _client(server, TRIGGER.format(name=DEPLOYMENT, period=FIXTURE_PERIOD, force=False))
        assert first["state"] == "COMPLETED", (tmp_path / "serve.log").read_text()[-3000:]
        [artifact] = [a for a in first["artifacts"] if a["key"] == "pcn-benchmark-run"]
        assert artifact["type"] == "markdown"
        assert f"PCN benchmark {FIXTURE_PERIOD}: published" in artifact["data"]
        assert "| pcn_workforce | individual | 2026-06 |" in artifact["data"]
        site = out / "site"
        first_release = site.resolve()
        assert (site / "index.html").is_file() and (site / "report.pdf").is_file()

        # unchanged inputs and code: the scheduled rerun has nothing to rebuild
        second = _client(
            server, TRIGGER.format(name=DEPLOYMENT, period=FIXTURE_PERIOD, force=False)
        )
        assert second["state"] == "COMPLETED"
        [artifact] = [a for a in second["artifacts"] if a["key"] == "pcn-benchmark-run"]
        assert f"PCN benchmark {FIXTURE_PERIOD}: unchanged" in artifact["data"]
        assert site.resolve() == first_release
        assert [p.name for p in (out / "releases").iterdir()] == [first_release.name]

        # forced: rebuilt from scratch, byte-identical
        third = _client(server, TRIGGER.format(name=DEPLOYMENT, period=FIXTURE_PERIOD, force=True))
        assert third["state"] == "COMPLETED"
        second_release = site.resolve()
        assert second_release != first_release  # a new release, switched to
        before, after = _release_files(first_release), _release_files(second_release)
        assert sorted(after) == sorted(before)
        assert {"index.html", "report.pdf", "data/indicators.csv"} <= set(after)
        changed = [name for name in before if before[name] != after[name]]
        assert changed == []


def test_a_killed_run_leaves_the_publication_and_a_second_run_is_refused(
    server: dict[str, str], tmp_path: Path
):
    out = tmp_path / "out"
    command = [
        str(BIN / "pcn-benchmark"),
        "run",
        "--period",
        FIXTURE_PERIOD,
        "--data-dir",
        str(FIXTURE_LANDING),
        "--out",
        str(out),
    ]
    done = subprocess.run(command, env=server, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    published = (out / "site").resolve()
    snapshot = _release_files(published)

    first = subprocess.Popen(
        [*command, "--force"],  # the same inputs are published: only a forced run rebuilds
        env=server,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        lock = out / ".run.lock"
        _wait_for(
            lambda: f"pid {first.pid} " in lock.read_text(encoding="utf-8"),
            120,
            "the first run to take the lock",
            first,
        )
        refused = subprocess.run(command, env=server, capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1
        last_line = refused.stderr.strip().splitlines()[-1]
        assert last_line.startswith("pcn-benchmark: error: another run is publishing into")
        assert "Traceback" not in refused.stderr

        releases = out / "releases"
        known = {p.name for p in releases.iterdir()}
        _wait_for(
            lambda: any((p / "static").is_dir() for p in releases.iterdir() if p.name not in known),
            600,
            "the first run to start rendering its release",
            first,
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        _stop(first)

    assert (out / "site").resolve() == published
    assert _release_files(published) == snapshot
    with publish.run_lock(out):  # the killed run's lock went with it
        pass


SCHEDULES = """
    import json
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        d = client.read_deployment_by_name("{name}")
        schedules = client.read_deployment_schedules(d.id)
    print(json.dumps({{
        "pool": d.work_pool_name,
        "parameters": d.parameters,
        "schedules": [
            {{"cron": s.schedule.cron, "timezone": s.schedule.timezone, "parameters": s.parameters}}
            for s in schedules
        ],
    }}))
"""

SUBMIT = """
    import json
    from prefect.deployments import run_deployment

    run = run_deployment(
        "{name}",
        parameters={{"period": "{period}", "data_dir": "{data}", "out_dir": "{out}"}},
        timeout=0,
    )
    print(json.dumps({{"id": str(run.id)}}))
"""

STATE = """
    import json
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run("{run_id}")
    print(json.dumps({{"state": run.state.type.value}}))
"""


def test_prefect_yaml_deploys_to_a_process_work_pool_that_runs_it(
    server: dict[str, str], tmp_path: Path
):
    """The README's work-pool path: `prefect deploy --all` from prefect.yaml, a process worker
    picks the run up and publishes."""
    env = {**server, "PCN_BENCHMARK_HOME": str(ROOT), "PATH": f"{BIN}:{os.environ['PATH']}"}

    def prefect(*args: str) -> None:
        done = subprocess.run(
            [str(BIN / "prefect"), "--no-prompt", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    prefect("work-pool", "create", "pcn-benchmark", "--type", "process")
    prefect("deploy", "--all")
    deployed = _client(env, SCHEDULES.format(name="pcn-benchmark/monthly"))
    assert deployed["pool"] == "pcn-benchmark"
    assert deployed["parameters"]["data_dir"] == "data/raw"
    crons = {s["cron"]: s for s in deployed["schedules"]}
    assert set(crons) == {"0 6 20 * *", "0 7 * * *"}
    assert crons["0 7 * * *"]["parameters"] == {"republish": True}
    assert {s["timezone"] for s in deployed["schedules"]} == {"Europe/London"}

    out = tmp_path / "out"
    submitted = _client(
        env,
        SUBMIT.format(
            name="pcn-benchmark/monthly", period=FIXTURE_PERIOD, data=FIXTURE_LANDING, out=out
        ),
    )
    worker = [str(BIN / "prefect"), "worker", "start", "--pool", "pcn-benchmark", "--run-once"]
    with background(worker, env, tmp_path / "worker.log", cwd=tmp_path) as process:
        process.wait(timeout=900)
    state = _client(env, STATE.format(run_id=submitted["id"]))["state"]
    assert state == "COMPLETED", (tmp_path / "worker.log").read_text()[-3000:]
    assert (out / "site" / "index.html").is_file() and (out / "site" / "report.pdf").is_file()
