"""The parent flow: it reads like the pipeline, and it is the one place that orders the stages.

land -> normalise -> validate inputs -> dbt build -> validate marts -> render -> publish
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, task
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner

from flows import (
    changes,
    landing,
    normalise,
    notify,
    publish,
    release_info,
    render,
    run_report,
    transform,
    validate,
)
from flows.landing import LandedFile
from flows.normalise import NormalisedInput
from flows.processes import in_own_process
from flows.release_info import default_release_date
from flows.settings import (
    DBT_PROJECT_DIR,
    EXPECTATIONS_DIR,
    PROJECT_ROOT,
    TEMPLATES_DIR,
    Settings,
    get_settings,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Periods and release dates


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` inclusive, in order (`YYYY-MM`)."""
    if first > last:
        raise ValueError(f"--from {first} is after --to {last}")
    year, month = (int(x) for x in first.split("-"))
    months: list[str] = []
    while (current := f"{year:04d}-{month:02d}") <= last:
        months.append(current)
        year, month = year + (month == 12), month % 12 + 1
    return months


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


def _digest_files(paths: list[Path]) -> str:
    """A digest of files' names (relative to the project) and bytes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _code_fingerprint() -> str:
    """A digest of the readers' code: a cached read is reused only by the code that made it."""
    package = Path(__file__).resolve().parent
    return _digest_files([*(package / "sources").rglob("*.py"), package / "normalise.py"])


READER_FINGERPRINT = _code_fingerprint()


def _publication_code() -> str:
    """A digest of everything that shapes a release: the flows, the dbt project, the suites and
    the templates (dbt's own target/ and logs/ excluded)."""
    files = [
        *(PROJECT_ROOT / "flows").rglob("*.py"),
        *(
            p
            for p in DBT_PROJECT_DIR.rglob("*")
            if p.is_file()
            and p.relative_to(DBT_PROJECT_DIR).parts[0] in {"models", "macros", "seeds", "tests"}
        ),
        *DBT_PROJECT_DIR.glob("*.yml"),
        *(p for p in EXPECTATIONS_DIR.rglob("*") if p.is_file()),
        *(p for p in TEMPLATES_DIR.rglob("*") if p.is_file()),
    ]
    return _digest_files([p for p in files if "__pycache__" not in p.parts])


def publication_key(
    settings: Settings,
    period: str,
    released: date,
    pcn_codes: list[str] | None,
    selected: list[LandedFile],
) -> str:
    """What a release depends on (docs/ARCHITECTURE.md "Determinism"): the period and release date,
    the landed files' checksums, the code, the tools and the site settings. Equal keys give equal
    releases, so a run whose key is already published has nothing to do."""
    parts = {
        "period": period,
        "release_date": released.isoformat(),
        "pcn_codes": sorted(pcn_codes) if pcn_codes else None,
        "inputs": sorted([f.source, f.product, f.vintage, f.path.name, f.sha256] for f in selected),
        "code": _publication_code(),
        "tools": _tool_versions(),
        "site": [settings.site_title, settings.contact_email],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def read_cache_key(landed: LandedFile) -> str:
    """What a file's read depends on: its bytes (the landing manifest's sha256), which reader
    reads it, and that reader's code."""
    return (
        f"read-{landed.source}-{landed.product}-{landed.vintage}-"
        f"{landed.sha256[:32]}-{READER_FINGERPRINT}"
    )


@task(
    name="read_landed_file",
    cache_key_fn=lambda _context, parameters: read_cache_key(parameters["landed"]),
    persist_result=True,
)
def read_landed_file(landed: LandedFile, cache_dir: Path) -> normalise.ReadFile:
    """Read one landed file into Parquet kept in the cache (a rerun with the same bytes reuses
    it instead of re-reading the source)."""
    folder = cache_dir / "read" / read_cache_key(landed)
    shutil.rmtree(folder, ignore_errors=True)  # a forced or repaired read starts clean
    return normalise.read_to_parquet(landed, folder)


def normalise_inputs(
    selected: list[LandedFile], parquet_dir: Path, cache_dir: Path, force: bool
) -> list[NormalisedInput]:
    """Each landed file read once per checksum (Prefect's cache, stored under the output's
    work folder), then stacked into the tables dbt reads."""
    storage = (cache_dir / "results").resolve()  # a Path: a local store, no saved block needed
    cached = read_landed_file.with_options(
        result_storage=storage, refresh_cache=True if force else None
    )
    read: list[tuple[LandedFile, normalise.ReadFile]] = []
    for landed in selected:
        done = cached(landed, cache_dir)
        if not done.exists():  # the cache outlived its Parquet (deleted by hand): read again
            done = read_landed_file.with_options(result_storage=storage, refresh_cache=True)(
                landed, cache_dir
            )
        read.append((landed, done))
    return stack_inputs(read, selected, parquet_dir)


@task(name="normalise_inputs")
def stack_inputs(
    read: list[tuple[LandedFile, normalise.ReadFile]],
    selected: list[LandedFile],
    parquet_dir: Path,
) -> list[NormalisedInput]:
    inputs = in_own_process(normalise.stack_files, read, parquet_dir)
    normalise.write_empty_tables(selected, parquet_dir)
    return inputs


@task(name="validate_inputs")
def validate_inputs(
    data_dir: Path, period: str, inputs: list[NormalisedInput], parquet_dir: Path, docs_dir: Path
) -> tuple[list[validate.CheckResult], list[dict]]:
    """Raw suites on the normalised tables and on what was landed (schema, age, rows), in a
    process of their own (flows.processes); returns the results and each product's
    age and row-count comparison (for the quality page)."""
    results, vintages = in_own_process(
        validate.validate_inputs, data_dir, period, inputs, parquet_dir, docs_dir
    )
    _gate("inputs", results)
    return results, vintages


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
    results = in_own_process(validate.validate_marts, db_path, MART_TABLES, docs_dir)
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
def render_pcn_batch(
    db_path: str, codes: list[str], release_dir: str, site: dict, print_dir: str
) -> int:
    return render.render_pcn_pages(db_path, codes, release_dir, site, print_dir)


@task(name="render_pcn_pdfs")
def render_pcn_pdf_batch(codes: list[str], print_dir: str, release_dir: str) -> dict[str, float]:
    return render.render_pcn_pdfs(codes, print_dir, release_dir)


@task(name="render_site_pages")
def render_site_pages(db_path: str, release_dir: str, site: dict, quality: dict) -> None:
    render.render_site_pages(db_path, release_dir, site, quality)


@task(name="render_report_pdf")
def render_report_pdf(release_dir: str, site: dict) -> None:
    render.render_report_pdf(release_dir, site)


@task(name="write_downloads")
def write_downloads(db_path: str, release_dir: str) -> dict[str, int]:
    # every indicator row of every period goes through pandas: in its own process (see
    # flows.processes), beside the render workers
    return in_own_process(render.write_downloads, db_path, release_dir)


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
    inputs: list[dict[str, Any]] = field(default_factory=list)
    """Each source product and vintage read, with its rows and status."""
    validation: dict[str, int] = field(default_factory=dict)
    replaces: dict[str, Any] | None = None
    """A republication: the release of the same period it replaces and the inputs that changed."""
    reused: bool = False
    """Nothing to do: a release with this run's publication key was already built."""


def event(name: str, **fields: Any) -> None:
    """One structured log line (`event=... key=value ...`): on the command line, in the log file
    and, inside a run, in the Prefect UI (the `flows` logger is one of Prefect's extra loggers)."""
    parts = [f"event={name}"]
    for key, value in fields.items():
        text = f"{value:.1f}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={json.dumps(text) if ' ' in text or not text else text}")
    log.info(" ".join(parts))


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    event("stage_start", stage=stage)
    ok = False
    try:
        yield
        ok = True
    finally:
        timings[stage] = round(time.perf_counter() - start, 3)
        event("stage_end", stage=stage, status="ok" if ok else "failed", seconds=timings[stage])


def _batches(codes: list[str], size: int) -> list[list[str]]:
    return [codes[i : i + size] for i in range(0, len(codes), size)]


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


def _validation_counts(results: list[validate.CheckResult]) -> dict[str, int]:
    return {
        "checks": len(results),
        "passed": sum(r.success for r in results),
        "warnings": sum(not r.success and r.severity == "warning" for r in results),
        "critical_failures": sum(not r.success and r.severity == "critical" for r in results),
    }


def _input_record(i: NormalisedInput) -> dict[str, Any]:
    """An input file as manifest.json records it."""
    return {
        "source": i.source,
        "product": i.product,
        "vintage": i.vintage,
        "path": i.path,
        "origin": i.origin,
        "bytes": i.bytes,
        "sha256": i.sha256,
        "schema_version": i.schema_version,
        "source_status": i.source_status,
        "rows": sum(i.tables.values()),
    }


def _summary_inputs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run summary's line per input, from the manifest's records (a reused release's too)."""
    return [
        {
            "source": r["source"],
            "product": r["product"],
            "vintage": r["vintage"],
            "rows": r.get("rows", 0),
            "status": r["source_status"],
            "file": Path(r["path"]).name,
        }
        for r in records
    ]


def _write_manifest(
    release_dir: Path, summary: RunSummary, records: list[dict[str, Any]], key: str
) -> None:
    manifest = {
        "run_id": summary.run_id,
        "release_id": summary.release_id,
        "period": summary.period,
        "publication_key": key,
        "replaces": summary.replaces,
        "inputs": records,
        "tool_versions": _tool_versions(),
        "stage_timings_s": summary.timings,
        "validation": summary.validation,
        "counts": {
            "pcns_published": summary.pcns_published,
            "pcn_pages": summary.pcn_pages,
            "indicators": summary.indicators,
            "indicator_rows": summary.indicator_rows,
        },
    }
    render.write_text(release_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")


def _published_period(out: Path) -> str | None:
    """The period the site shows; None (the newest landed) when nothing is published yet."""
    manifest = publish.published_manifest(out)
    return manifest["period"] if manifest else None


def _replaced_release(out: Path, period: str, selected: list[LandedFile]) -> dict | None:
    """When the published release is of this period and was built differently (a publisher's
    revision landed, or the code changed), this run republishes it: say what changed."""
    manifest = publish.published_manifest(out)
    if not manifest or manifest.get("period") != period:
        return None
    now = [
        {
            "source": f.source,
            "product": f.product,
            "vintage": f.vintage,
            "path": str(f.path),
            "sha256": f.sha256,
        }
        for f in selected
    ]
    return {
        "release_id": manifest["release_id"],
        "changed_inputs": publish.changed_inputs(manifest.get("inputs", []), now),
    }


def _reuse(out: Path, release: Path, timings: dict[str, float]) -> dict:
    """Publish (or keep) a release already built from identical inputs and code: a rerun's
    result without rebuilding it."""
    manifest = publish.read_manifest(release)
    assert manifest is not None  # find_release only returns releases with a manifest
    _run("publish", timings, publish_release, out, release)
    event("unchanged", period=manifest["period"], release=manifest["release_id"])
    counts = manifest["counts"]
    return asdict(
        RunSummary(
            run_id=manifest["run_id"],
            release_id=manifest["release_id"],
            period=manifest["period"],
            release_dir=str(release),
            site=str(out / "site"),
            pcns_published=counts["pcns_published"],
            pcn_pages=counts["pcn_pages"],
            indicators=counts["indicators"],
            indicator_rows=counts["indicator_rows"],
            timings=timings,
            inputs=_summary_inputs(manifest["inputs"]),
            validation=manifest["validation"],
            reused=True,
        )
    )


def _run(stage: str, timings: dict[str, float], fn: Callable[..., T], *args: Any) -> T:
    with _timed(timings, stage):
        return fn(*args)


def _map(render_task: Any, calls: list[tuple]) -> list[Any]:
    """Run render batches on the flow's task runner (a process pool: rendering is CPU-bound),
    or inline when there is only one batch (a pool would only add its start-up)."""
    if len(calls) <= 1:
        return [render_task(*args) for args in calls]
    futures = [render_task.submit(*args) for args in calls]
    return [future.result() for future in futures]


def render_task_runner(dask_address: str | None) -> TaskRunner:
    """Where the render batches run: this machine's worker processes
    (PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS, default the CPU count), or the Dask cluster
    whose scheduler is at `dask_address` (its workers must have this project installed and see
    the output folder at the same path)."""
    if not dask_address:
        return ProcessPoolTaskRunner()
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=dask_address)


# The runner is chosen when the module is imported, so the CLI, `serve` and prefect.yaml's
# deployments (entrypoint flows/pipeline.py:publish_benchmark) all follow the setting.
@flow(
    name="pcn-benchmark",
    log_prints=True,
    task_runner=render_task_runner(get_settings().dask_address),
)
def publish_benchmark(
    period: str | None = None,
    data_dir: str | None = None,
    out_dir: str | None = None,
    pcn_codes: list[str] | None = None,
    release_date: str | None = None,
    force: bool = False,
    republish: bool = False,
) -> dict:
    """Publish the benchmark for one period from the landed inputs; returns a run summary.
    `force` rebuilds even when a release with the same inputs and code exists, and ignores
    cached reads of landed files. `republish` takes the period the site shows (the daily
    recheck: a revised input is republished, an unchanged period is left as it is)."""
    settings = get_settings()
    out = Path(out_dir) if out_dir else settings.out_dir
    try:
        with publish.run_lock(out):
            if republish and period is None:
                period = _published_period(out)
            summary = _publish(settings, period, data_dir, out, pcn_codes, release_date, force)
            publish.prune(out, settings.keep_releases)
    except Exception as exc:
        _report_failure(period, out, exc, settings.notify_url)
        raise
    event(
        "published",
        period=summary["period"],
        release=summary["release_id"],
        pcns=summary["pcns_published"],
        site=summary["site"],
    )
    run_report.run_artifact(summary)
    return summary


def _report_failure(period: str | None, out: Path, exc: Exception, notify_url: str | None) -> None:
    """Tell people (Apprise) and the Prefect UI (an artifact) why nothing was published."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    what = period or "the newest landed period"
    refused = isinstance(exc, validate.QualityGateError)
    title = (
        f"PCN benchmark: quality gate refused {what}"
        if refused
        else f"PCN benchmark: run failed for {what}"
    )
    event("run_failed", period=what, error=type(exc).__name__, reason=reason)
    body = f"{reason}\nOutput: {out} (the published site is unchanged)"
    notify.notify(title, body, notify_url)
    run_report.failure_artifact(what, out, type(exc).__name__, reason)


def _publish(
    settings: Settings,
    period: str | None,
    data_dir: str | None,
    out: Path,
    pcn_codes: list[str] | None,
    release_date: str | None,
    force: bool,
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
    key = publication_key(settings, period, released, pcn_codes, selected)
    reusable = None if force else publish.find_release(out, key)
    if reusable is not None:
        return _reuse(out, reusable, timings)
    replaces = _replaced_release(out, period, selected)
    inputs = _run(
        "normalise", timings, normalise_inputs, selected, parquet_dir, publish.cache_dir(out), force
    )
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
    site = release_info.site_metadata(settings, period, released, inputs)
    site["source_changes"] = changes.source_changes(landing.scan(data), period)
    site["revisions"] = changes.revisions_in_use(selected, period)
    quality = release_info.quality_summary(inputs, results, vintages, parquet_dir, db_path)
    print_dir = str(work / "print")  # the PCN PDFs' print pages, written with the HTML pages
    batches = _batches(page_codes, settings.render_batch_size)
    with _timed(timings, "html"):
        # the downloads' process ends before the render workers start beside this one
        _run("downloads", timings, write_downloads, str(db_path), str(release_dir))
        pages = 0
        for written in _map(
            render_pcn_batch,
            [(str(db_path), batch, str(release_dir), site, print_dir) for batch in batches],
        ):
            pages += written
            event("render_progress", pages=pages, of=len(page_codes))
        render_site_pages(str(db_path), str(release_dir), site, quality)
    _run("national_pdf", timings, render_report_pdf, str(release_dir), site)
    _run(
        "pcn_pdfs",
        timings,
        lambda: _map(render_pcn_pdf_batch, [(b, print_dir, str(release_dir)) for b in batches]),
    )

    records = [_input_record(i) for i in inputs]
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
        inputs=_summary_inputs(records),
        validation=_validation_counts(results),
        replaces=replaces,
    )
    if replaces:
        event(
            "republication",
            period=period,
            replaces=replaces["release_id"],
            changed=len(replaces["changed_inputs"]),
        )
    _write_manifest(release_dir, summary, records, key)
    _run("publish", timings, publish_release, out, release_dir)
    return asdict(summary)


def deployment_parameters(data_dir: Path | None, out: Path | None) -> dict[str, Any]:
    """A scheduled run's parameters: the newest landed period, from the given folders."""
    settings = get_settings()
    return {
        "period": None,
        "data_dir": str((data_dir or settings.data_dir).resolve()),
        "out_dir": str((out or settings.out_dir).resolve()),
    }


def serve_deployment(
    name: str, cron: str | None, data_dir: Path | None, out: Path | None, schedule: bool = True
) -> None:
    """Register `pcn-benchmark/<name>` with a monthly cron schedule and serve it (blocks)."""
    from prefect.schedules import Cron

    settings = get_settings()
    schedules = [Cron(cron or settings.schedule_cron, timezone=settings.schedule_timezone)]
    if settings.recheck_cron:
        schedules.append(
            Cron(
                settings.recheck_cron,
                timezone=settings.schedule_timezone,
                parameters={"republish": True},
            )
        )
    event(
        "serving",
        deployment=f"pcn-benchmark/{name}",
        cron=cron or settings.schedule_cron,
        recheck=settings.recheck_cron or "off",
    )
    publish_benchmark.serve(
        name=name,
        schedules=schedules if schedule else None,
        parameters=deployment_parameters(data_dir, out),
        description="Publish the PCN mental health benchmark for the newest landed period.",
        tags=["pcn-benchmark"],
        limit=1,  # one run at a time from this process; the run lock refuses any other
    )
