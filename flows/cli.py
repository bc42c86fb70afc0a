"""The one entry point: `pcn-benchmark run | inspect | periods` (see README)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

import flows  # noqa: F401  (sets the offline defaults before Prefect or dbt are imported)

app = typer.Typer(
    help="PCN primary mental health benchmark: turn public NHS data into a published benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _fail(reason: str) -> None:
    """Every failure ends with a one-line reason and a non-zero exit."""
    typer.echo(f"pcn-benchmark: error: {reason.splitlines()[0]}", err=True)
    raise typer.Exit(code=1)


def _check_period(period: str | None) -> None:
    if period is not None and not PERIOD.match(period):
        _fail(f"--period {period!r} is not YYYY-MM")


@app.command()
def run(
    period: Annotated[
        str | None, typer.Option(help="Publication month YYYY-MM (default: newest landed)")
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
) -> None:
    """Run the whole job: land, validate, build, render and publish one period."""
    _check_period(period)
    from flows.landing import LandingError
    from flows.normalise import MissingSourceError
    from flows.pipeline import publish_benchmark
    from flows.publish import PublishError, RunLockedError
    from flows.sources.base import ReaderError
    from flows.transform import ModelBuildError
    from flows.validate import QualityGateError

    try:
        summary = publish_benchmark(
            period=period,
            data_dir=str(data_dir) if data_dir else None,
            out_dir=str(out) if out else None,
            pcn_codes=pcn or None,
            release_date=release_date,
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
        _fail(str(exc))
    typer.echo(
        f"Published {summary['period']}: {summary['pcns_published']} PCNs, "
        f"{summary['indicators']} indicators, {summary['pcn_pages']} PCN pages"
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


if __name__ == "__main__":
    app()
