"""Operations without the Prefect engine: ranges, due months, notifications to a local receiver."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.pipeline import _report_failure, months_between
from flows.validate import CheckResult, QualityGateError
from flows.watch import expected_vintage
from tests.conftest import FIXTURE_LANDING

pytestmark = pytest.mark.unit


def test_a_range_is_every_month_in_order_across_a_year_end():
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_between("2026-03", "2026-03") == ["2026-03"]
    with pytest.raises(ValueError, match="after"):
        months_between("2026-04", "2026-03")


def test_run_refuses_a_half_range_and_a_reversed_one():
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--from", "2026-01"])
    assert result.exit_code == 1 and "--from and --to go together" in result.output
    result = runner.invoke(
        app, ["run", "--period", "2026-01", "--from", "2026-01", "--to", "2026-02"]
    )
    assert result.exit_code == 1 and "either --period or --from/--to" in result.output


def test_a_source_is_due_from_the_configured_day():
    # registrations (no lag): July's file is due by 20 July, not before
    assert expected_vintage(date(2026, 7, 19), 0, 20) == "2026-06"
    assert expected_vintage(date(2026, 7, 20), 0, 20) == "2026-07"
    assert expected_vintage(date(2026, 1, 25), 2, 20) == "2025-11"


def _receiver(httpserver) -> tuple[str, list[dict]]:
    received: list[dict] = []

    def handler(request):
        from werkzeug import Response

        received.append(json.loads(request.data))
        return Response("ok")

    httpserver.expect_request("/notify", method="POST").respond_with_handler(handler)
    return f"json://127.0.0.1:{httpserver.port}/notify", received


def test_a_refused_quality_gate_is_notified(httpserver, tmp_path: Path):
    url, received = _receiver(httpserver)
    failure = CheckResult(
        source="gp_registrations",
        suite="raw_gp_registrations",
        table="gp_registrations__prac_all",
        expectation="expect_compound_columns_to_be_unique",
        column=None,
        severity="critical",
        success=False,
        unexpected_count=2,
        meaning="one row per practice",
        examples=["A81001"],
    )
    _report_failure("2026-07", tmp_path, QualityGateError([failure]), url)
    assert len(received) == 1
    assert received[0]["title"] == "PCN benchmark: quality gate refused 2026-07"
    assert "expect_compound_columns_to_be_unique" in received[0]["message"]
    assert "published site is unchanged" in received[0]["message"]

    _report_failure("2026-08", tmp_path, OSError("disk full"), url)
    assert received[1]["title"] == "PCN benchmark: run failed for 2026-08"
    assert received[1]["message"].startswith("disk full")


def test_check_sources_notifies_late_sources_and_exits_non_zero(
    httpserver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url, received = _receiver(httpserver)
    monkeypatch.setenv("PCN_BENCHMARK_NOTIFY_URL", url)
    monkeypatch.setenv("PCN_BENCHMARK_EXPECTED_BY_DAY", "20")
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    runner = CliRunner()

    # 25 July 2026: registrations July, workforce June, GP workforce May are all landed
    on_time = runner.invoke(
        app, ["check-sources", "--data-dir", str(landing), "--today", "2026-07-25"]
    )
    assert on_time.exit_code == 0, on_time.output
    assert "LATE" not in on_time.output and received == []

    # 25 September: registrations September and the rest are due, none landed
    late = runner.invoke(
        app, ["check-sources", "--data-dir", str(landing), "--today", "2026-09-25"]
    )
    assert late.exit_code == 1
    assert "gp_registrations expected 2026-09, landed 2026-07" in late.output
    assert late.output.strip().splitlines()[-1].startswith("pcn-benchmark: error: late:")
    assert len(received) == 1
    assert received[0]["title"] == "PCN benchmark: source not published on time"
    assert "pcn_workforce expected 2026-08, landed 2026-06" in received[0]["message"]


def test_check_sources_names_an_unknown_watched_source(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PCN_BENCHMARK_SOURCE_LAG_MONTHS", '{"gp_registration": 0}')
    result = CliRunner().invoke(app, ["check-sources", "--today", "2026-07-25"])
    assert result.exit_code == 1
    assert "unknown source(s): gp_registration" in result.output


def test_republish_takes_the_published_period_only():
    result = CliRunner().invoke(app, ["run", "--republish", "--period", "2026-01"])
    assert result.exit_code == 1 and "--republish takes the published period" in result.output


def test_serve_schedules_the_monthly_run_and_a_daily_recheck(monkeypatch: pytest.MonkeyPatch):
    from flows import pipeline
    from flows.settings import get_settings

    served: dict = {}
    monkeypatch.setattr(pipeline.publish_benchmark, "serve", lambda **kw: served.update(kw))
    pipeline.serve_deployment("monthly", None, FIXTURE_LANDING, Path("out"))
    monthly, recheck = served["schedules"]
    settings = get_settings()
    assert monthly.cron == settings.schedule_cron == "0 6 20 * *" and not monthly.parameters
    assert recheck.cron == "0 7 * * *" and recheck.parameters == {"republish": True}
    assert served["parameters"]["data_dir"] == str(FIXTURE_LANDING.resolve())

    monkeypatch.setenv("PCN_BENCHMARK_RECHECK_CRON", "")
    served.clear()
    pipeline.serve_deployment("monthly", "0 5 21 * *", FIXTURE_LANDING, Path("out"))
    [only] = served["schedules"]
    assert only.cron == "0 5 21 * *"


def test_render_batches_go_to_local_processes_or_the_named_dask_scheduler():
    from prefect.task_runners import ProcessPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.pipeline import render_task_runner

    assert isinstance(render_task_runner(None), ProcessPoolTaskRunner)
    assert isinstance(render_task_runner(""), ProcessPoolTaskRunner)
    dask = render_task_runner("tcp://127.0.0.1:8786")
    assert isinstance(dask, DaskTaskRunner)
    assert dask.address == "tcp://127.0.0.1:8786"
