from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import flows  # noqa: F401  (offline defaults before Prefect is imported)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FIXTURE_LANDING = FIXTURES / "landing"
SAMPLE = ROOT / "data" / "sample"
FIXTURE_PERIOD = "2026-07"


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """One temporary Prefect API for the whole session (about 10 s to start)."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect_home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def landing_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture landing zone that a test may break."""
    target = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, target)
    return target


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> dict:
    """The flow run once on the two-ICB fixture: most integration tests read its outputs."""
    from flows.pipeline import publish_benchmark

    out = tmp_path_factory.mktemp("fixture_out")
    summary = publish_benchmark(
        period=FIXTURE_PERIOD, data_dir=str(FIXTURE_LANDING), out_dir=str(out)
    )
    return {"out": out, "summary": summary, "site": out / "site"}
