"""The one entry point: `pcn-benchmark run | inspect | periods` (see README)."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

import flows  # noqa: F401  (sets the offline defaults before Prefect or dbt are imported)

app = typer.Typer(
    help="PCN primary mental health benchmark: turn public NHS data into a published benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _fail(reason: str) -> NoReturn:
    """Every failure ends with a one-line reason and a non-zero exit."""
    typer.echo(f"pcn-benchmark: error: {reason.splitlines()[0]}", err=True)
    raise typer.Exit(code=1)


class _ConsoleFilter(logging.Filter):
    """The command line shows the project's own lines and others' warnings; the failure's
    traceback, which Prefect logs from the flow run, goes to the log file only (the one-line
    reason ends the output)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "flows" or record.name.startswith("flows."):
            return True
        if record.name.startswith(("prefect.flow_runs", "prefect.task_runs")):
            return record.levelno == logging.WARNING
        return record.levelno >= logging.WARNING


class _NoTraceback(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{self.formatTime(record, '%H:%M:%S')} {record.getMessage()}"


def _log_to_file(out: Path) -> Path:
    """Send every log line (Prefect's included, with tracebacks) to `<out>/logs/<time>.log` and
    a filtered, traceback-free view to the terminal. Returns the log file."""
    import flows.pipeline  # noqa: F401  (imports Prefect, which configures logging first)

    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__name__ == "PrefectConsoleHandler":
            root.removeHandler(handler)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s - %(message)s"))
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(_ConsoleFilter())
    console.setFormatter(_NoTraceback())
    root.addHandler(to_file)
    root.addHandler(console)
    # the flow and task run loggers only pass records at or above Prefect's level: let the file
    # see their INFO lines too
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.INFO)
    return path


def _check_period(period: str | None) -> None:
    if period is not None and not PERIOD.match(period):
        _fail(f"--period {period!r} is not YYYY-MM")


@app.command()
def run(
    period: Annotated[
        str | None, typer.Option(help="Publication month YYYY-MM (default: newest landed)")
    ] = None,
    from_period: Annotated[
        str | None,
        typer.Option("--from", help="First month of a range YYYY-MM (with --to): a backfill"),
    ] = None,
    to_period: Annotated[
        str | None, typer.Option("--to", help="Last month of the range YYYY-MM (with --from)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Landing zone to read (default: data/sample)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output root (default: build)")] = None,
    pcn: Annotated[
        list[str] | None, typer.Option(help="Render pages only for these PCN codes (repeatable)")
    ] = None,
    release_date: Annotated[
        str | None, typer.Option(help="Release date YYYY-MM-DD (default: from the period)")
    ] = None,
    republish: Annotated[
        bool,
        typer.Option(
            "--republish",
            help="Rebuild the period the site shows if a landed file it used was revised "
            "(nothing to do otherwise)",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Ignore cached work: rebuild even if this period is already published from the "
            "same inputs, and re-read every landed file",
        ),
    ] = False,
) -> None:
    """Run the whole job: land, validate, build, render and publish one period (or a range)."""
    for value in (period, from_period, to_period):
        _check_period(value)
    if (from_period is None) != (to_period is None):
        _fail("--from and --to go together")
    if period is not None and from_period is not None:
        _fail("give either --period or --from/--to, not both")
    if republish and (period is not None or from_period is not None):
        _fail("--republish takes the published period; give no --period or --from/--to")
    if from_period is not None and release_date is not None:
        _fail("--release-date applies to one period; each month of a range gets its own")
    from flows.pipeline import months_between
    from flows.settings import get_settings

    root = out or get_settings().out_dir
    try:
        log_file = _log_to_file(root)
    except OSError as exc:  # checked before anything runs: nothing can be published there
        _fail(f"{root}: cannot write to the output folder ({exc.strerror})")
    typer.echo(f"log: {log_file}", err=True)
    try:
        periods: list[str | None] = (
            list(months_between(from_period, to_period)) if from_period and to_period else [period]
        )
    except ValueError as exc:
        _fail(str(exc))
    with _one_prefect_api():
        for one in periods:
            summary = _run_one(
                one, data_dir, out, pcn, release_date, force, republish, in_range=len(periods) > 1
            )
            _print_summary(summary)


@contextmanager
def _one_prefect_api() -> Iterator[None]:
    """With no PREFECT_API_URL, Prefect starts a temporary server for the run; but the process
    pool's render workers are handed the run's settings, not that server, and each would start
    a temporary server of its own (about 220 MB and 7 s each, their task runs lost with it).
    Start the temporary server here and put its address in the settings the workers get."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's own client would start and use
    server.start()
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


def _run_one(
    period: str | None,
    data_dir: Path | None,
    out: Path | None,
    pcn: list[str] | None,
    release_date: str | None,
    force: bool,
    republish: bool,
    in_range: bool,
) -> dict:
    """One period's publication; a failure stops here (a range stops at its first failure)."""
    from flows.landing import LandingError
    from flows.normalise import MissingSourceError
    from flows.pipeline import publish_benchmark
    from flows.publish import PublishError, RunLockedError
    from flows.sources.base import ReaderError
    from flows.transform import ModelBuildError
    from flows.validate import QualityGateError

    try:
        return publish_benchmark(
            period=period,
            data_dir=str(data_dir) if data_dir else None,
            out_dir=str(out) if out else None,
            pcn_codes=pcn or None,
            release_date=release_date,
            force=force,
            republish=republish,
        )
    except (
        LandingError,
        MissingSourceError,
        ReaderError,
        ModelBuildError,
        QualityGateError,
        PublishError,
        RunLockedError,
        ValueError,
        OSError,
    ) as exc:
        _fail(f"{period}: {exc}" if in_range else str(exc))


def _print_summary(summary: dict) -> None:
    if summary.get("reused"):
        typer.echo(
            f"Unchanged {summary['period']}: release {summary['release_id']} was built from "
            "these inputs and this code; it is published, nothing was rebuilt (--force rebuilds)"
        )
    else:
        typer.echo(
            f"Published {summary['period']}: {summary['pcns_published']} PCNs, "
            f"{summary['indicators']} indicators, {summary['pcn_pages']} PCN pages"
        )
    if summary.get("replaces"):
        changed = summary["replaces"]["changed_inputs"]
        what = ", ".join(f"{c['source']} {c['vintage']} {c['file']} {c['change']}" for c in changed)
        typer.echo(
            f"  republished: replaces {summary['replaces']['release_id']} "
            f"({what or 'same inputs; code, tools, settings or --pcn selection changed'})"
        )
    typer.echo(f"  site:    {summary['site']}/index.html")
    typer.echo(f"  report:  {summary['site']}/report.pdf")
    typer.echo(f"  data:    {summary['site']}/data/indicators.csv")
    typer.echo(f"  release: {summary['release_dir']}")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in summary["timings"].items())
    typer.echo(f"  stages:  {timings}")


@app.command()
def fetch(
    period: Annotated[str, typer.Option(help="Publication month YYYY-MM")],
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Landing zone to write (default: data/raw)")
    ] = None,
) -> None:
    """Download each source's newest release on or before the period into the landing zone."""
    _check_period(period)
    from flows.fetch import fetch as fetch_sources
    from flows.settings import get_settings

    try:
        report = fetch_sources(period, data_dir or get_settings().raw_dir, sources=source or None)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        _fail("fetch failed for " + ", ".join(r.name for r in report.failed))


@app.command()
def inspect(path: Path) -> None:
    """Say which source, schema version and period a file is, as JSON on stdout."""
    from flows.sources import identify
    from flows.sources.base import ReaderError

    if not path.is_file():
        _fail(f"{path}: no such file")
    product = identify(path)
    if product is None:
        _fail(f"{path}: neither its name nor its header matches a known publication")
    vintage = path.parent.name if PERIOD.match(path.parent.name) else None
    try:
        result = product.read(path, vintage)
    except (ReaderError, ValueError, KeyError) as exc:
        _fail(str(exc))
    json.dump(
        {
            "source": result.source,
            "product": result.product,
            "schema_version": result.schema_version,
            "period": result.period,
            "rows": result.rows,
            "tables": {name: t.num_rows for name, t in result.tables.items()},
            "columns": result.mapped_columns,
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


@app.command()
def periods(
    data_dir: Annotated[Path, typer.Option(help="Landing zone to list")] = Path("data/sample"),
) -> None:
    """List what is landed, per source, product and vintage."""
    from flows.landing import LandingError, scan

    try:
        landed = scan(data_dir)
    except LandingError as exc:
        _fail(str(exc))
    for f in sorted(landed, key=lambda f: (f.source, f.product, f.vintage)):
        typer.echo(f"{f.source:18} {f.product:12} {f.vintage}  {f.path.name}")


@app.command()
def serve(
    name: Annotated[str, typer.Option(help="Deployment name")] = "monthly",
    cron: Annotated[
        str | None, typer.Option(help="Cron schedule (default: PCN_BENCHMARK_SCHEDULE_CRON)")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Landing zone the scheduled runs read (default: data/sample)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output root (default: build)")] = None,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="Register without a schedule (runs on demand)")
    ] = False,
) -> None:
    """Register the flow as a Prefect deployment with a monthly schedule and run what it is
    given, until stopped (Ctrl-C). Needs a Prefect server: set PREFECT_API_URL."""
    from prefect.settings import PREFECT_API_URL

    from flows.pipeline import serve_deployment

    if not PREFECT_API_URL.value():
        _fail(
            "serve needs a Prefect server: start one (`prefect server start`) and set "
            "PREFECT_API_URL, e.g. http://127.0.0.1:4200/api"
        )
    try:
        serve_deployment(name, cron, data_dir, out, schedule=not no_schedule)
    except (ValueError, OSError, RuntimeError) as exc:
        _fail(str(exc))


@app.command("check-sources")
def check_sources(
    data_dir: Annotated[
        Path | None, typer.Option(help="Landing zone to check (default: data/raw)")
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="Check as on this date YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """Say whether each watched source has landed the month it should have by now; notify and
    exit non-zero when one is late."""
    from datetime import date

    from flows.landing import LandingError, scan
    from flows.notify import notify
    from flows.settings import get_settings
    from flows.sources import SOURCES
    from flows.watch import check_sources as check

    settings = get_settings()
    unknown = sorted(set(settings.source_lag_months) - set(SOURCES))
    if unknown:
        _fail(f"PCN_BENCHMARK_SOURCE_LAG_MONTHS names unknown source(s): {', '.join(unknown)}")
    try:
        on = date.fromisoformat(today) if today else date.today()
    except ValueError:
        _fail(f"--today {today!r} is not YYYY-MM-DD")
    folder = data_dir or settings.raw_dir
    try:
        landed = scan(folder) if folder.is_dir() else []
    except LandingError as exc:
        _fail(str(exc))
    checks = check(landed, on, settings.source_lag_months, settings.expected_by_day)
    for c in checks:
        typer.echo(c.line())
    late = [c for c in checks if c.late]
    if late:
        reason = "late: " + "; ".join(
            f"{c.source} expected {c.expected}, landed {c.latest or 'nothing'}" for c in late
        )
        notify(
            "PCN benchmark: source not published on time",
            f"As of {on.isoformat()} in {folder}: {reason}",
        )
        _fail(reason)


if __name__ == "__main__":
    app()
