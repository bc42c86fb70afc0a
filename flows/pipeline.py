"""The parent flow: it reads like the pipeline, and it is the one place that orders the stages.

land -> normalise -> validate inputs -> dbt build -> validate marts -> render -> publish
"""

from __future__ import annotations

import json
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from prefect import flow, task

from flows import landing, normalise, publish, render, transform, validate
from flows.landing import LandedFile
from flows.normalise import NormalisedInput
from flows.settings import Settings, get_settings

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# Periods and release dates


def second_thursday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 7)


def default_release_date(period: str) -> date:
    """The second Thursday of the month after the period (so a rerun gives the same date)."""
    year, month = (int(x) for x in period.split("-"))
    return second_thursday(year + (month == 12), month % 12 + 1)


def next_update(release_date: date) -> date:
    year, month = release_date.year, release_date.month
    return second_thursday(year + (month == 12), month % 12 + 1)


def period_label(period: str) -> str:
    return datetime.strptime(period, "%Y-%m").strftime("%B %Y")


def vintage_label(source: str, vintage: str) -> str:
    year = int(vintage[:4])
    if source == "qof":
        return f"{year - 1}-{year % 100:02d} (April to March)"
    return period_label(vintage)


# ---------------------------------------------------------------------------------------------
# Tasks: small, named by verb; deterministic steps fail fast (no retries)


@task(name="land_sources")
def land_sources(data_dir: Path, period: str) -> list[LandedFile]:
    """Find what is landed, check every file against its manifest, pick vintages for the period."""
    landed = landing.scan(data_dir)
    normalise.check_required(landing.select_for_period(landed, period), period)
    selected = landing.select_with_series(landed, period)
    for file in selected:
        landing.verify(file)
    return selected


@task(name="normalise_inputs")
def normalise_inputs(selected: list[LandedFile], parquet_dir: Path) -> list[NormalisedInput]:
    inputs = normalise.normalise_files(selected, parquet_dir)
    normalise.write_empty_tables(selected, parquet_dir)
    return inputs


@task(name="validate_inputs")
def validate_inputs(
    data_dir: Path, period: str, inputs: list[NormalisedInput], parquet_dir: Path, docs_dir: Path
) -> tuple[list[validate.CheckResult], list[dict]]:
    """Raw suites on the normalised tables and on what was landed (schema, age, rows); returns
    the results and each product's age and row-count comparison (for the quality page)."""
    frames = validate.read_parquet_frames(parquet_dir)
    frames["inputs__schema"] = validate.schema_frame(parquet_dir)
    frames["inputs__vintages"] = validate.vintages_frame(
        inputs, landing.scan(data_dir), period, validate.input_limits()
    )
    results = validate.validate_frames(frames, "raw_", docs_dir)
    _gate("inputs", results)
    return results, frames["inputs__vintages"].to_dict("records")


@task(name="build_models")
def build_models(period: str, parquet_dir: Path, db_path: Path, work_dir: Path) -> None:
    transform.build_models(period, parquet_dir, db_path, work_dir)


# The marts and dbt quality tables the mart suites read: the exact data the report renders.
MART_TABLES = (
    "fct_pcn_indicators",
    "fct_icb_indicators",
    "dim_pcns",
    "dim_practices",
    "qa_pcn_completeness",
    "qa_practice_mapping",
    "qa_england_reconciliation",
    "qa_indicator_coverage",
)


@task(name="validate_marts")
def validate_marts(db_path: Path, docs_dir: Path) -> list[validate.CheckResult]:
    with render.connect(db_path) as con:
        frames = {name: con.sql(f"select * from {name}").df() for name in MART_TABLES}
    results = validate.validate_frames(frames, "mart_", docs_dir)
    _gate("marts", results)
    return results


def _gate(stage: str, results: list[validate.CheckResult]) -> None:
    """Publish the outcome as a Prefect artifact (the run summary a data engineer reads), then
    stop the run on a critical failure."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        key=f"quality-gate-{stage}",
        markdown=f"# Quality gate: {stage}\n\n{validate.summary_markdown(results)}\n",
        description=f"Great Expectations results on the {stage}",
    )
    validate.enforce(results)


@task(name="render_pcn_pages")
def render_pcn_batch(db_path: str, codes: list[str], release_dir: str, site: dict) -> int:
    return render.render_pcn_pages(db_path, codes, release_dir, site)


@task(name="render_site_pages")
def render_site_pages(db_path: str, release_dir: str, site: dict, quality: dict) -> None:
    render.render_site_pages(db_path, release_dir, site, quality)


@task(name="render_report_pdf")
def render_report_pdf(release_dir: str, site: dict) -> None:
    render.render_report_pdf(release_dir, site)


@task(name="write_downloads")
def write_downloads(db_path: str, release_dir: str) -> dict[str, int]:
    return render.write_downloads(db_path, release_dir)


@task(name="publish")
def publish_release(out_dir: Path, release_dir: Path) -> Path:
    return publish.publish(out_dir, release_dir)


# ---------------------------------------------------------------------------------------------
# The flow


@dataclass
class RunSummary:
    run_id: str
    release_id: str
    period: str
    release_dir: str
    site: str
    pcns_published: int
    pcn_pages: int
    indicators: int
    indicator_rows: int
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - start, 3)


def _batches(codes: list[str], size: int) -> list[list[str]]:
    return [codes[i : i + size] for i in range(0, len(codes), size)]


def _quality_summary(
    inputs: list[NormalisedInput],
    results: list[validate.CheckResult],
    vintages: list[dict],
    parquet_dir: Path,
    db_path: Path,
) -> dict[str, Any]:
    """What quality.html and the PDF's annex show: per source, the files read and the checks run,
    passed and failed with what a failure means; the age of each input; unmatched codes."""
    from flows.sources import PRODUCTS

    labels = {(p.source, p.product): p.label for p in PRODUCTS}
    sources: dict[str, dict[str, Any]] = {}
    for r in results:
        s = sources.setdefault(
            r.source,
            {
                "source": r.source,
                "suites": [],
                "files": [],
                "run": 0,
                "passed": 0,
                "warnings": 0,
                "critical": 0,
                "failures": [],
            },
        )
        if r.suite not in s["suites"]:
            s["suites"].append(r.suite)
        s["run"] += 1
        if r.success:
            s["passed"] += 1
        else:
            s["warnings" if r.severity == "warning" else "critical"] += 1
            s["failures"].append(r.as_dict())
    for i in inputs:
        if i.source in sources:
            sources[i.source]["files"].append(
                {
                    "label": labels[(i.source, i.product)],
                    "file": Path(i.path).name,
                    "vintage": i.vintage,
                    "period": vintage_label(i.source, i.vintage),
                }
            )
    suites: dict[str, dict[str, Any]] = {}
    for r in results:
        t = suites.setdefault(
            r.suite, {"suite": r.suite, "run": 0, "passed": 0, "warnings": 0, "critical": 0}
        )
        t["run"] += 1
        if r.success:
            t["passed"] += 1
        else:
            t["warnings" if r.severity == "warning" else "critical"] += 1
    unknown = []
    for table in (
        "talking_therapies__monthly_unknown_group_types",
        "talking_therapies__annual_unknown_org_types",
    ):
        path = parquet_dir / f"{table}.parquet"
        if path.exists():
            for row in pd.read_parquet(path).itertuples(index=False):
                unknown.append({"table": table, "type": row[0], "rows": int(row[1])})
    with render.connect(db_path) as con:
        unmatched = con.execute(
            "select source, code_type, code, reason from fct_unmatched_codes order by all"
        ).fetchall()
        pcns = con.execute("select count(*) from dim_pcns").fetchone()[0]
        mapping = con.execute(
            "select practices_listed, practices_in_open_pcn, share_in_open_pcn, "
            "patient_share_in_open_pcn from qa_practice_mapping"
        ).fetchone()

    def codes(reason_start: str) -> list[str]:
        return [c for _, _, c, reason in unmatched if reason.startswith(reason_start)]

    workforce_unmatched = codes("PCN employs staff")
    return {
        "inputs": [
            {
                "label": labels[(i.source, i.product)],
                "file": Path(i.path).name,
                "vintage": i.vintage,
                "schema_version": i.schema_version,
                "rows": sum(i.tables.values()),
                "source_status": i.source_status,
            }
            for i in inputs
        ],
        "sources": list(sources.values()),
        "suites": sorted(suites.values(), key=lambda s: s["suite"]),
        "vintages": vintages,
        "warnings": [r.as_dict() for r in results if not r.success and r.severity == "warning"],
        "unknown_types": unknown,
        "unmatched": [
            {"source": src, "code_type": kind, "code": code, "reason": reason}
            for src, kind, code, reason in unmatched
        ],
        "data_docs": {"inputs": "quality/inputs/index.html", "marts": "quality/marts/index.html"},
        "coverage": {
            "pcns": pcns,
            "practices_listed": mapping[0],
            "practices_in_open_pcn": mapping[1],
            "share_in_open_pcn": mapping[2],
            "patient_share_in_open_pcn": mapping[3],
            "pcns_without_practices": len(codes("open in ODS ePCN")),
            "workforce_pcns_unmatched": len(workforce_unmatched),
            "workforce_pcns_unmatched_codes": workforce_unmatched,
            "practices_without_list_size": len(codes("in the membership but no list size")),
            "practices_without_qof": len(codes("in the membership but no QOF")),
        },
    }


def _site_metadata(
    settings: Settings, period: str, release_date: date, inputs: list[NormalisedInput]
) -> dict:
    from flows.sources import PRODUCTS

    products = {(p.source, p.product): p for p in PRODUCTS}
    return {
        "title": settings.site_title,
        "publisher": "PCN mental health benchmark project",
        "contact": settings.contact_email,
        "period": period,
        "period_label": period_label(period),
        "release_date": release_date.isoformat(),
        "next_update": next_update(release_date).isoformat(),
        "status_line": (
            "This is an independent analysis of official statistics; it is not itself an "
            "official statistics publication."
        ),
        "has_synthetic": any(i.source_status == "synthetic" for i in inputs),
        "sources": _source_periods(inputs, products),
    }


def _source_periods(inputs: list[NormalisedInput], products: dict) -> list[dict]:
    """Each source product's period as readers see it: its latest vintage, and where a series
    is read for the trend, where that series starts."""
    by_product: dict[tuple[str, str], list[NormalisedInput]] = {}
    for i in inputs:
        by_product.setdefault((i.source, i.product), []).append(i)
    rows = []
    for key, items in sorted(by_product.items()):
        items.sort(key=lambda i: i.vintage)
        latest, first = items[-1], items[0]
        label = vintage_label(latest.source, latest.vintage)
        if len(items) > 1:
            label += f" (series from {vintage_label(first.source, first.vintage)})"
        rows.append(
            {
                "source": latest.source,
                "label": products[key].label,
                "publisher": products[key].publisher,
                "vintage": latest.vintage,
                "period_label": label,
                "status": latest.source_status,
            }
        )
    return rows


def _tool_versions() -> dict[str, str]:
    names = [
        "prefect",
        "dbt-core",
        "dbt-duckdb",
        "duckdb",
        "great-expectations",
        "jinja2",
        "weasyprint",
        "matplotlib",
    ]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _write_manifest(
    release_dir: Path,
    summary: RunSummary,
    inputs: list[NormalisedInput],
    results: list[validate.CheckResult],
) -> None:
    manifest = {
        "run_id": summary.run_id,
        "release_id": summary.release_id,
        "period": summary.period,
        "inputs": [
            {
                "source": i.source,
                "product": i.product,
                "vintage": i.vintage,
                "path": i.path,
                "origin": i.origin,
                "bytes": i.bytes,
                "sha256": i.sha256,
                "schema_version": i.schema_version,
                "source_status": i.source_status,
            }
            for i in inputs
        ],
        "tool_versions": _tool_versions(),
        "stage_timings_s": summary.timings,
        "validation": {
            "checks": len(results),
            "passed": sum(r.success for r in results),
            "warnings": sum(not r.success and r.severity == "warning" for r in results),
            "critical_failures": sum(not r.success and r.severity == "critical" for r in results),
        },
        "counts": {
            "pcns_published": summary.pcns_published,
            "pcn_pages": summary.pcn_pages,
            "indicators": summary.indicators,
            "indicator_rows": summary.indicator_rows,
        },
    }
    render.write_text(release_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")


def _run(stage: str, timings: dict[str, float], fn: Callable[..., T], *args: Any) -> T:
    with _timed(timings, stage):
        return fn(*args)


@flow(name="pcn-benchmark", log_prints=True)
def publish_benchmark(
    period: str | None = None,
    data_dir: str | None = None,
    out_dir: str | None = None,
    pcn_codes: list[str] | None = None,
    release_date: str | None = None,
) -> dict:
    """Publish the benchmark for one period from the landed inputs; returns a run summary."""
    settings = get_settings()
    out = Path(out_dir) if out_dir else settings.out_dir
    with publish.run_lock(out):
        summary = _publish(settings, period, data_dir, out, pcn_codes, release_date)
        publish.prune(out, settings.keep_releases)
    return summary


def _publish(
    settings: Settings,
    period: str | None,
    data_dir: str | None,
    out: Path,
    pcn_codes: list[str] | None,
    release_date: str | None,
) -> dict:
    data = Path(data_dir) if data_dir else settings.data_dir
    period = period or landing.latest_vintage(landing.scan(data))
    released = date.fromisoformat(release_date) if release_date else default_release_date(period)
    run_id = uuid.uuid4().hex
    release_id = f"{period}_{datetime.now(UTC):%Y%m%dT%H%M%S}_{run_id[:8]}"
    work = out / "work" / release_id
    parquet_dir, db_path = work / "parquet", work / "pcn_benchmark.duckdb"
    if settings.duckdb_path:
        db_path = Path(settings.duckdb_path)
    timings: dict[str, float] = {}

    selected = _run("land", timings, land_sources, data, period)
    inputs = _run("normalise", timings, normalise_inputs, selected, parquet_dir)
    docs_dir = work / "data_docs"
    raw_results, vintages = _run(
        "validate_inputs",
        timings,
        validate_inputs,
        data,
        period,
        inputs,
        parquet_dir,
        docs_dir / "inputs",
    )
    _run("dbt", timings, build_models, period, parquet_dir, db_path, work)
    mart_results = _run("validate_marts", timings, validate_marts, db_path, docs_dir / "marts")
    results = raw_results + mart_results

    with render.connect(db_path) as con:
        all_codes = [
            r[0] for r in con.execute("select pcn_code from dim_pcns order by 1").fetchall()
        ]
        indicators = con.execute("select count(*) from dim_indicators").fetchone()[0]
        indicator_rows = con.execute("select count(*) from fct_pcn_indicators").fetchone()[0]
    unknown = sorted(set(pcn_codes or []) - set(all_codes))
    if unknown:
        raise ValueError(f"--pcn: not a PCN published for {period}: {', '.join(unknown)}")
    page_codes = sorted(pcn_codes) if pcn_codes else all_codes

    release_dir = publish.new_release_dir(out, release_id)
    validate.install_data_docs(docs_dir, release_dir)
    site = _site_metadata(settings, period, released, inputs)
    quality = _quality_summary(inputs, results, vintages, parquet_dir, db_path)
    with _timed(timings, "html"):
        pages = sum(
            render_pcn_batch(str(db_path), batch, str(release_dir), site)
            for batch in _batches(page_codes, settings.render_batch_size)
        )
        render_site_pages(str(db_path), str(release_dir), site, quality)
        _run("downloads", timings, write_downloads, str(db_path), str(release_dir))
    _run("national_pdf", timings, render_report_pdf, str(release_dir), site)

    summary = RunSummary(
        run_id=run_id,
        release_id=release_id,
        period=period,
        release_dir=str(release_dir),
        site=str(out / "site"),
        pcns_published=len(all_codes),
        pcn_pages=pages,
        indicators=indicators,
        indicator_rows=indicator_rows,
        timings=timings,
    )
    _write_manifest(release_dir, summary, inputs, results)
    _run("publish", timings, publish_release, out, release_dir)
    return asdict(summary)
