"""Rendering on a Dask cluster: a local scheduler and two workers on 127.0.0.1, a Prefect server,
and `pcn-benchmark run` with PCN_BENCHMARK_DASK_ADDRESS set; its render batches must run on the
cluster's workers and publish the same pages and PDFs as a local run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_LANDING, FIXTURE_PERIOD, ROOT
from tests.integration.test_prefect_server import (
    BIN,
    _free_port,
    background,
    running_server,
    server_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CODES = ["U11625", "U62043"]  # two PCNs, one render batch each (batch size 1)


def test_render_batches_run_on_a_dask_cluster(tmp_path: Path) -> None:
    from distributed import Client

    home = tmp_path / "prefect"
    home.mkdir()
    env = server_env(home)
    with running_server(env, tmp_path / "server.log") as api:
        env |= {"PREFECT_API_URL": api}
        port = _free_port()
        address = f"tcp://127.0.0.1:{port}"
        scheduler = [
            str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
            "--no-dashboard",
        ]  # fmt: skip
        workers = [
            str(BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1",
            "--host", "127.0.0.1", "--no-dashboard",
        ]  # fmt: skip
        with (
            background(scheduler, env, tmp_path / "scheduler.log"),
            background(workers, env, tmp_path / "workers.log", cwd=ROOT),
        ):
            client = Client(address, timeout=60)
            try:
                client.wait_for_workers(2, timeout=120)
                out = tmp_path / "out"
                command = [
                    str(BIN / "pcn-benchmark"), "run", "--data-dir", str(FIXTURE_LANDING),
                    "--out", str(out), "--period", FIXTURE_PERIOD,
                ]  # fmt: skip
                for code in CODES:
                    command += ["--pcn", code]
                on_dask = {
                    "PCN_BENCHMARK_DASK_ADDRESS": address,
                    "PCN_BENCHMARK_RENDER_BATCH_SIZE": "1",
                }
                done = subprocess.run(
                    command,
                    env=env | on_dask,
                    capture_output=True,
                    text=True,
                    timeout=900,
                    cwd=ROOT,
                )
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

                # what the scheduler ran: both page batches and both PDF batches, each finished
                # on a worker (Dask keys start with the wrapped Prefect task function's name)
                ran = client.run_on_scheduler(
                    lambda dask_scheduler: {
                        name: dict(prefix.state_counts)
                        for name, prefix in dask_scheduler.task_prefixes.items()
                    }
                )
            finally:
                client.close()

    # each batch went to a worker and finished there (held in a worker's memory until read)
    assert ran["render_pcn_batch"]["memory"] == len(CODES), ran
    assert ran["render_pcn_pdf_batch"]["memory"] == len(CODES), ran
    site = out / "site"
    for code in CODES:
        assert (site / "pcn" / f"{code}.html").stat().st_size > 0
        assert (site / "pdf" / f"{code}.pdf").read_bytes().startswith(b"%PDF-")
