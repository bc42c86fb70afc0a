"""dbt's unit tests (the tricky SQL: Wilson and Byar limits, peers, context weights, Talking
Therapies areas) run here, against the fixture build's database, rather than in every monthly
`dbt build` (flows/transform.py excludes them there)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from flows.settings import DBT_PROJECT_DIR
from flows.transform import dbt_command
from tests.conftest import FIXTURE_PERIOD

pytestmark = pytest.mark.integration


def _defined_unit_tests() -> set[str]:
    names = set()
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names |= {test["name"] for test in spec.get("unit_tests", [])}
    return names


def test_every_dbt_unit_test_passes(fixture_build: dict, tmp_path: Path):
    work = fixture_build["out"] / "work" / fixture_build["summary"]["release_id"]
    database = tmp_path / "pcn_benchmark.duckdb"
    shutil.copyfile(work / "pcn_benchmark.duckdb", database)  # dbt opens it for writing
    command, env = dbt_command(
        "test", FIXTURE_PERIOD, work / "parquet", database, tmp_path, "--select", "test_type:unit"
    )
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    results = json.loads((tmp_path / "dbt_target/run_results.json").read_text(encoding="utf-8"))
    ran = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results["results"]}
    assert set(ran) == _defined_unit_tests() and len(ran) >= 7
    assert set(ran.values()) == {"pass"}
