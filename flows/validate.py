"""The quality gate: run the suites in expectations/ with Great Expectations 1.x on dataframes.

Raw suites see the normalised Parquet inputs and two tables this module derives from the landing
zone (`inputs__schema`, `inputs__vintages`); mart suites see the marts and the dbt `qa_*` tables,
read from DuckDB read-only (GX's SQL path to DuckDB is broken here, see README). A failed
`critical` expectation stops the run before render and publish; `warning` failures are published
on the quality page. Each suite run also builds GX Data Docs, made to load nothing from another
host, for `site/quality/`.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import yaml

from flows import landing
from flows.landing import LandedFile
from flows.normalise import NormalisedInput
from flows.settings import DUCKDB_OFFLINE, EXPECTATIONS_DIR

logger = logging.getLogger(__name__)

# GX Data Docs style themselves with Bootstrap 4 from a CDN; the release carries this copy instead.
DOCS_STYLESHEET = "static/vendor/bootstrap-4.3.1.min.css"
# Bootstrap's collapse needs its JavaScript, which the offline docs drop: show the content instead.
DOCS_OFFLINE_CSS = (
    ".collapse:not(.show){display:block} .fade:not(.show){opacity:1}"
    " .tab-content>.tab-pane{display:block;margin-bottom:2rem} .nav-tabs{display:none}"
)


class QualityGateError(RuntimeError):
    """A critical expectation failed: nothing is rendered or published."""

    def __init__(self, failures: list[CheckResult]) -> None:
        self.failures = failures
        first = failures[0]
        super().__init__(
            f"quality gate: {len(failures)} critical expectation(s) failed; first: "
            f"{first.suite}/{first.table}: {first.expectation}({first.column or ''}) - "
            f"{first.unexpected_count} unexpected, e.g. {first.examples[:3]}"
        )


@dataclass
class CheckResult:
    source: str
    suite: str
    table: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    meaning: str
    examples: list[Any] = field(default_factory=list)
    observed: Any = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        return f"{self.suite}/{self.table}: {self.expectation}({self.column or ''})"


def load_suites(prefix: str) -> list[dict]:
    """Suites whose file name starts with `prefix` (raw_ or mart_), sorted by name."""
    suites = []
    for path in sorted(EXPECTATIONS_DIR.glob(f"{prefix}*.yml")):
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
        for table, entries in suite["tables"].items():
            for entry in entries:
                if entry.get("severity") not in ("critical", "warning"):
                    raise ValueError(f"{path}: {table}: {entry['type']} needs severity")
        suites.append(suite)
    return suites


def input_limits() -> dict[str, dict[str, Any]]:
    """Per-product staleness and row-count limits (expectations/input_limits.yml)."""
    config = yaml.safe_load((EXPECTATIONS_DIR / "input_limits.yml").read_text(encoding="utf-8"))
    return config["products"]


# ---------------------------------------------------------------------------------------------
# Tables derived from the landing zone, checked like any other table


def _months_between(earlier: str, later: str) -> int:
    (y1, m1), (y2, m2) = (map(int, earlier.split("-")[:2]), map(int, later.split("-")[:2]))
    return (y2 - y1) * 12 + (m2 - m1)


def schema_frame(parquet_dir: Path) -> pd.DataFrame:
    """One row per column dbt expects in each normalised table, with the type actually written."""
    from flows.sources import PRODUCTS

    rows = []
    for product in PRODUCTS:
        for table, schema in product.tables.items():
            name = product.parquet_name(table)
            path = parquet_dir / f"{name}.parquet"
            written = {f.name: str(f.type) for f in pq.read_schema(path)} if path.exists() else {}
            for expected in schema:
                rows.append(
                    {
                        "table_column": f"{name}.{expected.name}",
                        "expected_type": str(expected.type),
                        "written_type": written.get(expected.name, "missing"),
                    }
                )
    return pd.DataFrame(rows)


def vintages_frame(
    inputs: list[NormalisedInput],
    landed: list[LandedFile],
    period: str,
    limits: dict[str, dict[str, Any]],
) -> pd.DataFrame:
    """One row per product read for the period (its newest vintage): age against its staleness
    limit, and rows against the previous landed vintage where a recent one exists."""
    rows = []
    newest: dict[tuple[str, str], NormalisedInput] = {}
    for item in inputs:
        key = (item.source, item.product)
        if key not in newest or item.vintage > newest[key].vintage:
            newest[key] = item
    for (source, product), item in sorted(newest.items()):
        limit = limits.get(f"{source}.{product}")
        if limit is None:
            raise KeyError(f"expectations/input_limits.yml: no limits for {source}.{product}")
        previous = max(
            (
                f
                for f in landed
                if (f.source, f.product) == (source, product) and f.vintage < item.vintage
            ),
            key=lambda f: f.vintage,
            default=None,
        )
        rows_now = sum(item.tables.values())
        previous_rows = None
        if (
            previous
            and _months_between(previous.vintage, item.vintage) <= limit["compare_within_months"]
        ):
            previous_rows = _rows_of(previous, inputs)
        rows.append(
            {
                "product": f"{source}.{product}",
                "file": Path(item.path).name,
                "vintage": item.vintage,
                "period": period,
                "age_months": _months_between(item.vintage, period),
                "max_age_months": limit["max_age_months"],
                "rows": rows_now,
                "previous_vintage": previous.vintage if previous else None,
                "previous_rows": previous_rows,
                "row_ratio": rows_now / previous_rows if previous_rows else None,
                "min_row_ratio": limit["min_row_ratio"],
                "max_row_ratio": limit["max_row_ratio"],
            }
        )
    return pd.DataFrame(rows)


def _rows_of(landed: LandedFile, inputs: list[NormalisedInput]) -> int:
    """Rows of a landed vintage: from this run when it was read (series), else read now."""
    for item in inputs:
        if (item.source, item.product, item.vintage) == (
            landed.source,
            landed.product,
            landed.vintage,
        ):
            return sum(item.tables.values())
    return landed.spec.read(landed.path, landed.vintage).rows


# ---------------------------------------------------------------------------------------------
# Running the suites


def _context(docs_dir: Path | None) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # an ephemeral context makes a Data Docs site in a new temporary folder: remove both
    for site in list(context.variables.data_docs_sites or {}):
        folder = context.variables.data_docs_sites[site]["store_backend"].get("base_directory")
        context.delete_data_docs_site(site)
        if folder and Path(folder).is_dir() and not any(Path(folder).iterdir()):
            Path(folder).rmdir()
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="release",
            site_config={
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    # GX's file store takes absolute paths only; `--out` may be relative
                    # (`make run` writes to `build`)
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def _build_suite(name: str, entries: list[dict]) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    suite = gx.ExpectationSuite(name=name)
    for entry in entries:
        expectation_class = get_expectation_impl(entry["type"])
        suite.add_expectation(
            expectation_class(
                **entry.get("kwargs", {}),
                meta={"severity": entry["severity"], "meaning": entry.get("meaning", "")},
            )
        )
    return suite


def _plain(value: Any) -> Any:
    """numpy scalars and NaN to plain Python, for JSON and the quality page."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if str(value).endswith("00:00:00") else value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _column_of(kwargs: dict) -> str | None:
    if kwargs.get("column"):
        return kwargs["column"]
    columns = kwargs.get("column_list") or [kwargs.get("column_A"), kwargs.get("column_B")]
    return ",".join(str(c) for c in columns if c) or None


def _examples(result: dict) -> list[Any]:
    """Example rows (their key columns) where the suite names keys, else example values."""
    rows = result.get("partial_unexpected_index_list")
    if rows and isinstance(rows[0], dict):
        return [_plain(r) for r in rows[:5]]
    return [_plain(v) for v in result.get("partial_unexpected_list", [])][:5]


def validate_frames(
    frames: dict[str, pd.DataFrame],
    prefix: str,
    docs_dir: Path | None = None,
    only: set[str] | None = None,
) -> list[CheckResult]:
    """Run every suite named prefix* on the frames it names (a missing frame is an error);
    with `docs_dir`, build GX Data Docs of the run there; `only` limits it to those tables."""
    import great_expectations as gx

    context = _context(docs_dir)
    source = context.data_sources.add_pandas("frames")
    results: list[CheckResult] = []
    for suite in load_suites(prefix):
        keys = suite.get("keys", {})
        for table, entries in suite["tables"].items():
            if only is not None and table not in only:
                continue
            if table not in frames:
                raise KeyError(f"suite {suite['name']} expects table {table}; not produced")
            batch_definition = source.add_dataframe_asset(
                f"{suite['name']}.{table}"
            ).add_batch_definition_whole_dataframe("whole")
            gx_suite = context.suites.add(_build_suite(f"{suite['name']}.{table}", entries))
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=f"{suite['name']}.{table}", data=batch_definition, suite=gx_suite
                )
            )
            result_format: dict[str, Any] = {"result_format": "SUMMARY"}
            if keys.get(table):
                result_format["unexpected_index_column_names"] = keys[table]
            outcome = definition.run(
                batch_parameters={"dataframe": frames[table]}, result_format=result_format
            )
            for result in outcome.results:
                config = result.expectation_config
                results.append(
                    CheckResult(
                        source=suite.get("source", suite["name"]),
                        suite=suite["name"],
                        table=table,
                        expectation=config.type,
                        column=_column_of(config.kwargs),
                        severity=config.meta["severity"],
                        success=bool(result.success),
                        unexpected_count=_plain(result.result.get("unexpected_count")),
                        meaning=config.meta.get("meaning", ""),
                        examples=_examples(result.result),
                        observed=_plain(result.result.get("observed_value")),
                    )
                )
    if docs_dir is not None:
        context.build_data_docs(site_names=["release"])
        make_docs_offline(docs_dir)
    return results


def enforce(results: list[CheckResult]) -> None:
    """Log the outcome; stop the run on any critical failure."""
    logger.info("quality gate:\n%s", summary_markdown(results))
    failures = [r for r in results if not r.success and r.severity == "critical"]
    if failures:
        raise QualityGateError(failures)


def summary_markdown(results: list[CheckResult]) -> str:
    """The run summary for the data engineer: counts, then every failure with example rows."""
    failed = [r for r in results if not r.success]
    lines = [
        f"{len(results)} expectations run, {len(results) - len(failed)} passed, "
        f"{sum(r.severity == 'critical' for r in failed)} critical and "
        f"{sum(r.severity == 'warning' for r in failed)} warning failures.",
    ]
    if failed:
        lines += [
            "",
            "| severity | check | unexpected | examples | meaning |",
            "|---|---|---|---|---|",
        ]
        for r in sorted(failed, key=lambda r: (r.severity != "critical", r.label)):
            shown = r.examples[:3] if r.examples else r.observed
            count = "" if r.unexpected_count is None else r.unexpected_count
            lines.append(
                f"| {r.severity} | `{r.label}` | {count} | {_md(shown)} | {_md(r.meaning)} |"
            )
    return "\n".join(lines)


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")[:300]


def read_parquet_frames(parquet_dir: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted(parquet_dir.glob("*.parquet"))}


def validate_inputs(
    data_dir: Path, period: str, inputs: list[NormalisedInput], parquet_dir: Path, docs_dir: Path
) -> tuple[list[CheckResult], list[dict]]:
    """Raw suites on the normalised tables and on what was landed (schema, age, rows); returns
    the results and each product's age and row-count comparison (for the quality page)."""
    frames = read_parquet_frames(parquet_dir)
    frames["inputs__schema"] = schema_frame(parquet_dir)
    frames["inputs__vintages"] = vintages_frame(
        inputs, landing.scan(data_dir), period, input_limits()
    )
    return validate_frames(frames, "raw_", docs_dir), frames["inputs__vintages"].to_dict("records")


def validate_marts(db_path: Path, tables: tuple[str, ...], docs_dir: Path) -> list[CheckResult]:
    """Mart suites on the tables the report renders, read from DuckDB read-only."""
    import duckdb

    # not render.connect: importing the renderer (matplotlib, WeasyPrint) costs this process 2 s
    with duckdb.connect(str(db_path), read_only=True, config=DUCKDB_OFFLINE) as con:
        frames = {name: con.sql(f"select * from {name}").df() for name in tables}
    return validate_frames(frames, "mart_", docs_dir)


# ---------------------------------------------------------------------------------------------
# Data Docs that load nothing from another host

_REMOTE = re.compile(r"^(?:https?:)?//", re.I)
_REMOTE_CSS_URL = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.I)


def make_docs_offline(docs_dir: Path) -> None:
    """Drop every script (GX's all come from CDNs or drive them) and every remote stylesheet,
    link the release's Bootstrap copy instead, and drop static files no page uses."""
    from bs4 import BeautifulSoup

    used: set[Path] = set()
    for page in sorted(docs_dir.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["script", "footer"]):
            tag.decompose()
        for tag in soup.find_all(onclick=True):
            del tag["onclick"]
        for tag in soup.find_all("style"):
            if tag.string:
                tag.string = _REMOTE_CSS_URL.sub("none", tag.string)
        if page == docs_dir / "index.html":
            _list_pages(soup, docs_dir)
        for tag in soup.find_all(["link", "img", "iframe", "source"]):
            ref = tag.get("href") or tag.get("src") or ""
            if _REMOTE.match(ref):
                tag.decompose()
            elif ref and not ref.startswith(("#", "data:")):
                used.add((page.parent / ref.split("?")[0]).resolve())
        head = soup.head or soup
        depth = len(page.relative_to(docs_dir).parts)  # the docs sit in <release>/quality/<site>/
        stylesheet = soup.new_tag(
            "link", rel="stylesheet", href="../" * (depth + 1) + DOCS_STYLESHEET
        )
        head.insert(0, stylesheet)
        style = soup.new_tag("style")
        style.string = DOCS_OFFLINE_CSS
        head.append(style)
        page.write_text(str(soup), encoding="utf-8")
    for css in list(used):
        if css.suffix == ".css" and css.exists():
            for ref in re.findall(r"url\(['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
                if not _REMOTE.match(ref) and not ref.startswith("data:"):
                    used.add((css.parent / ref.split("?")[0]).resolve())
    static = docs_dir / "static"
    if static.exists():
        for file in sorted(static.rglob("*"), reverse=True):
            if file.is_file() and file.resolve() not in used:
                file.unlink()
            elif file.is_dir() and not any(file.iterdir()):
                file.rmdir()


def _list_pages(soup: Any, docs_dir: Path) -> None:
    """GX fills its index tables with JavaScript; list the pages in them as plain links."""
    for table_id, folder in (
        ("section-1-content-block-2-1-body-table", "validations"),
        ("section-1-content-block-2-2-body-table", "expectations"),
    ):
        table = soup.find(id=table_id)
        if table is None:
            continue
        for button in table.find_previous_siblings("div"):
            button.decompose()
        table.clear()
        heading = soup.new_tag("h2", attrs={"class": "h5"})
        heading.string = "Validation results" if folder == "validations" else "Expectation suites"
        table.insert_before(heading)
        header = soup.new_tag("tr")
        for text in ("Suite", "Table", "Page"):
            cell = soup.new_tag("th", scope="col")
            cell.string = text
            header.append(cell)
        table.append(header)
        for page in sorted((docs_dir / folder).rglob("*.html")):
            suite, table_name = page.relative_to(docs_dir / folder).parts[:2]
            row = soup.new_tag("tr")
            for text in (suite, table_name.removesuffix(".html")):
                cell = soup.new_tag("td")
                cell.string = text
                row.append(cell)
            link = soup.new_tag("a", href=page.relative_to(docs_dir).as_posix())
            link.string = "validation result" if folder == "validations" else "expectations"
            cell = soup.new_tag("td")
            cell.append(link)
            row.append(cell)
            table.append(row)


def install_data_docs(docs_root: Path, release_dir: Path) -> None:
    """Copy the run's Data Docs sites (raw/, marts/) into <release>/quality/."""
    target = release_dir / "quality"
    for site in sorted(p for p in docs_root.iterdir() if p.is_dir()) if docs_root.exists() else []:
        shutil.copytree(site, target / site.name)
    os.makedirs(target, exist_ok=True)
