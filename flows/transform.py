"""Run `dbt build` in a subprocess, so this process holds no DuckDB connection afterwards
(dbt-duckdb keeps its connection open in the process that ran it; see README)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flows.settings import DBT_PROJECT_DIR, get_settings


class ModelBuildError(RuntimeError):
    """dbt build failed: a model, contract or data test. The message carries dbt's own lines."""


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_command(
    verb: str, period: str, parquet_dir: Path, duckdb_path: Path, work_dir: Path, *extra: str
) -> tuple[list[str], dict[str, str]]:
    """A dbt command line and environment for one period's inputs and database."""
    env = {
        **os.environ,
        "PCN_BENCHMARK_PARQUET_DIR": str(parquet_dir.resolve()),
        "PCN_BENCHMARK_DUCKDB_PATH": str(duckdb_path.resolve()),
        "PCN_BENCHMARK_DUCKDB_MEMORY_LIMIT": get_settings().duckdb_memory_limit,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [
        dbt_executable(),
        verb,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str((work_dir / "dbt_target").resolve()),
        "--log-path",
        str((work_dir / "dbt_logs").resolve()),
        "--vars",
        f"{{period: '{period}'}}",
        "--no-use-colors",
        "--quiet",
        *extra,
    ]
    return command, env


def build_models(period: str, parquet_dir: Path, duckdb_path: Path, work_dir: Path) -> str:
    """dbt build (seeds, models, contracts and data tests) for one period; returns the log.

    dbt's unit tests check the SQL, not the data: they run in the test suite
    (tests/integration/test_dbt_unit_tests.py), not in every monthly build."""
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    if duckdb_path.exists():
        duckdb_path.unlink()  # each run builds from its own inputs only
    command, env = dbt_command(
        "build", period, parquet_dir, duckdb_path, work_dir, "--exclude-resource-type", "unit_test"
    )
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    log = completed.stdout + completed.stderr
    if completed.returncode != 0:
        failing = [
            line.strip()
            for line in log.splitlines()
            if any(w in line for w in ("Failure", "Error", "error", "FAIL", "failed"))
        ]
        reason = failing[0] if failing else f"exit code {completed.returncode}"
        raise ModelBuildError(f"dbt build failed for period {period}: {reason}\n{log[-4000:]}")
    return log
