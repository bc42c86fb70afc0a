"""`make bench` end to end on a tiny input (two months of the two-ICB fixture, two PCN pages):
results.json has the shape issue 8 fixes. Not a timed test: the figures are only checked to be
measured (positive, consistent), never against a target."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import run as bench  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # three pipeline runs and a bare one

STAGE_KEYS = {"wall_s", "cpu_s", "peak_rss_mb"}


def test_tiny_benchmark_writes_results_in_the_issue_shape(tmp_path: Path) -> None:
    work = tmp_path / "bench"
    args = ["--base", str(ROOT / "tests/fixtures/landing"), "--work", str(work)]
    args += ["--periods", "2", "--scaling-periods", "1", "--pcn", "U02610", "--pcn", "U03864"]
    assert bench.main(args) == 0

    results = json.loads((work / "results.json").read_text(encoding="utf-8"))
    assert set(results) == {
        "stages",
        "total_wall_s",
        "bare_wall_s",
        "ratio",
        "rerun_wall_s",
        "periods",
        "pcns",
        "prefect_server",
        "scaling",
    }
    assert set(results["stages"]) == set(bench.STAGES)
    for name in ("land", "dbt", "validate", "html", "national_pdf"):
        stage = results["stages"][name]
        assert set(stage) == STAGE_KEYS, name
        assert stage["wall_s"] >= 0 and stage["cpu_s"] >= 0 and stage["peak_rss_mb"] > 0, name
    # a stage the pipeline does not run is null, never invented
    details = json.loads((work / "details.json").read_text(encoding="utf-8"))
    if "pcn_pdfs" not in details["pipeline"]["stage_timings_s"]:
        assert results["stages"]["pcn_pdfs"] is None
    assert results["periods"] == 2
    assert results["pcns"] == 24  # every fixture PCN is published, whatever pages were drawn
    assert results["prefect_server"] == "temporary"
    assert set(results["scaling"]) == {"1", "2"}
    assert results["scaling"]["2"] == results["total_wall_s"] and results["scaling"]["1"] > 0
    assert results["ratio"] == round(results["total_wall_s"] / results["bare_wall_s"], 2)
    assert sum(s["wall_s"] for s in results["stages"].values() if s) < results["total_wall_s"]
    assert details["pipeline"]["rerun_reused_release"] is True  # unchanged: nothing rebuilt
    # the bare job is the same job: identical downloads, and no framework imported
    assert details["bare"]["downloads_identical_to_pipeline"] is True
    assert details["bare"]["summary"]["frameworks_imported"] == []
    assert "pipeline / bare" in (work / "table.txt").read_text(encoding="utf-8")
