"""The README's shared-server path: a Prefect server backed by PostgreSQL (a throwaway cluster
on 127.0.0.1), the schema made by `prefect server database upgrade`, and a run recorded in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_LANDING, FIXTURE_PERIOD
from tests.integration.test_prefect_server import BIN, _free_port, running_server, server_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PG_BIN = next(
    (p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), Path("/usr/bin")
)


def _as_cluster_owner(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL cluster of its own with a `prefect` database; yields its SQLAlchemy URL."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL server binaries not found in {PG_BIN} (.ci/run installs them)")
    # not under pytest's temporary folder: that is private to its user, and the cluster's
    # owner (`postgres` when the tests run as root) must reach its data folder
    root = Path(tempfile.mkdtemp(prefix="pcn-benchmark-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    subprocess.run(
        _as_cluster_owner(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", "prefect", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        _as_cluster_owner(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                *("-l", str(root / "log"), "-w", "start"),
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                str(PG_BIN / "createdb"),
                *("-h", "127.0.0.1", "-p", str(port), "-U", "prefect"),
                "prefect",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+asyncpg://prefect@127.0.0.1:{port}/prefect"
    finally:
        subprocess.run(
            _as_cluster_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _psql(url: str, sql: str) -> str:
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    done = subprocess.run(
        [
            str(PG_BIN / "psql"),
            *("-h", host, "-p", port, "-U", "prefect", "-d", "prefect"),
            *("-At", "-c", sql),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_prefect_server_on_postgresql_records_a_published_run(postgres: str, tmp_path: Path):
    env = server_env(tmp_path / "prefect_home", PREFECT_API_DATABASE_CONNECTION_URL=postgres)
    upgrade = subprocess.run(
        [str(BIN / "prefect"), "server", "database", "upgrade", "-y"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert upgrade.returncode == 0, upgrade.stderr[-3000:]
    tables = "select count(*) from information_schema.tables where table_name = 'flow_run'"
    assert _psql(postgres, tables) == "1"

    with running_server(env, tmp_path / "server.log") as api:
        out = tmp_path / "out"
        client_env = {k: v for k, v in env.items() if k != "PREFECT_API_DATABASE_CONNECTION_URL"}
        done = subprocess.run(
            [
                str(BIN / "pcn-benchmark"),
                "run",
                "--period",
                FIXTURE_PERIOD,
                *("--data-dir", str(FIXTURE_LANDING), "--out", str(out), "--pcn", "U31970"),
            ],
            env=client_env | {"PREFECT_API_URL": api},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert (out / "site" / "pcn" / "U31970.html").is_file()
    # the run, its tasks and its artifact are PostgreSQL rows
    states = _psql(
        postgres,
        "select f.name || ' ' || r.state_type from flow_run r join flow f on f.id = r.flow_id",
    )
    assert states.splitlines() == ["pcn-benchmark COMPLETED"]
    assert int(_psql(postgres, "select count(*) from task_run")) > 5
    assert _psql(postgres, "select count(*) from artifact where key = 'pcn-benchmark-run'") == "1"
