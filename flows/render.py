"""Render the publication from the marts: HTML pages (Jinja2) and PDFs (WeasyPrint).

Rendering reads only the marts, through a read-only DuckDB connection opened after dbt has
finished. Per-PCN pages are rendered in batches from plain inputs (PCN codes, the database path,
the release folder and the site metadata), so batches can run in parallel task runners.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import tempfile
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint.urls import URLFetcher

from flows.charts import SpineChart, SpineIndicator, distribution_chart
from flows.settings import TEMPLATES_DIR

DOMAIN_TITLES = {
    "workforce": "Mental health workforce",
    "talking_therapies": "NHS Talking Therapies",
    "need": "Need",
    "context": "Context",
}

SIGNAL_TEXT = {
    "higher": "Higher",
    "lower": "Lower",
    "similar": "Similar",
    "not compared": "Not compared",
}

# ---------------------------------------------------------------------------------------------
# Jinja: one environment, autoescape on, StrictUndefined, number and date filters defined once


def format_number(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


def format_date(value: date | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.day} {value:%B %Y}"


def format_period(start: date | None, end: date | None) -> str:
    if start is None or end is None:
        return "-"
    if (start.year, start.month) == (end.year, end.month):
        return f"{end:%B %Y}"
    return f"{start:%b %Y} to {end:%b %Y}"


@cache
def jinja_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["domain_titles"] = DOMAIN_TITLES
    env.filters["number"] = format_number
    env.filters["long_date"] = format_date
    env.filters["signal_text"] = lambda s: SIGNAL_TEXT.get(s, s)
    env.filters["signal_class"] = lambda s: "signal-" + str(s).replace(" ", "-")
    return env


def write_text(path: Path, text: str) -> None:
    """Write atomically (a reader never sees half a page)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk: name the page, leave no half-written temporary file
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


# ---------------------------------------------------------------------------------------------
# Reading the marts


def connect(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """The marts, read-only, with `latest_indicators`: each indicator's latest period only."""
    con = duckdb.connect(
        str(db_path),
        read_only=True,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    con.execute(
        "create temp view latest_indicators as select * from fct_pcn_indicators "
        "qualify period_start = max(period_start) over (partition by indicator_id)"
    )
    return con


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_indicators(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _records(con, "select * from dim_indicators order by sort_order")


def national_spread(con: duckdb.DuckDBPyConnection) -> dict[str, list[float]]:
    spread: dict[str, list[float]] = defaultdict(list)
    for indicator_id, value in con.execute(
        "select indicator_id, value from latest_indicators where value is not null "
        "order by indicator_id, value"
    ).fetchall():
        spread[indicator_id].append(value)
    return dict(spread)


def signal_of(row: dict) -> str:
    if row["quintile"] is not None:
        return f"q{row['quintile']}"
    return row["compared_to_england"]


# ---------------------------------------------------------------------------------------------
# Pages


def render_pcn_pages(db_path: str, codes: list[str], release_dir: str, site: dict) -> int:
    """Render pcn/<code>.html for a batch of PCN codes; returns the number written."""
    env = jinja_env()
    template = env.get_template("pcn.html")
    out = Path(release_dir) / "pcn"
    with connect(db_path) as con:
        indicators = load_indicators(con)
        catalogue = {i["indicator_id"]: i for i in indicators}
        spread = national_spread(con)
        pcns = {
            p["pcn_code"]: p
            for p in _records(
                con,
                "select * from dim_pcns where pcn_code in (select unnest($1::varchar[]))",
                [codes],
            )
        }
        rows_by_pcn: dict[str, list[dict]] = defaultdict(list)
        for row in _records(
            con,
            "select f.* from latest_indicators f join dim_indicators i using (indicator_id) "
            "where f.pcn_code in (select unnest($1::varchar[])) "
            "order by f.pcn_code, i.sort_order",
            [codes],
        ):
            rows_by_pcn[row["pcn_code"]].append(row)
        # earlier periods of indicators with a series (the trend)
        trends_by_pcn: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for row in _records(
            con,
            "select f.pcn_code, f.indicator_id, f.period_end, f.value, f.england_value "
            "from fct_pcn_indicators f join dim_indicators i using (indicator_id) "
            "where f.pcn_code in (select unnest($1::varchar[])) and f.indicator_id in "
            "(select indicator_id from fct_pcn_indicators group by 1 "
            " having count(distinct period_start) > 1) "
            "order by f.pcn_code, i.sort_order, f.period_start",
            [codes],
        ):
            trends_by_pcn[row["pcn_code"]][row["indicator_id"]].append(row)
        peers_by_pcn: dict[str, list[dict]] = defaultdict(list)
        for peer in _records(
            con,
            "select * from dim_pcn_peers where pcn_code in (select unnest($1::varchar[])) "
            "order by pcn_code, peer_rank",
            [codes],
        ):
            peers_by_pcn[peer["pcn_code"]].append(peer)
        practices_by_pcn: dict[str, list[dict]] = defaultdict(list)
        for practice in _records(
            con,
            "select * from dim_practices where pcn_code in (select unnest($1::varchar[])) "
            "order by pcn_code, practice_code",
            [codes],
        ):
            practices_by_pcn[practice["pcn_code"]].append(practice)

    england = {r["indicator_id"]: r["england_value"] for rows in rows_by_pcn.values() for r in rows}
    spine = SpineChart(
        [
            SpineIndicator(
                i["short_title"], england.get(i["indicator_id"]), spread.get(i["indicator_id"], [])
            )
            for i in indicators
        ]
    )
    written = 0
    for code in sorted(codes):
        pcn = pcns[code]
        rows = rows_by_pcn[code]
        for row in rows:
            row["indicator"] = catalogue[row["indicator_id"]]
            row["period_label"] = format_period(row["period_start"], row["period_end"])
        by_indicator = {r["indicator_id"]: r for r in rows}
        spine_svg = spine.svg(
            [by_indicator[i["indicator_id"]]["value"] for i in indicators],
            [signal_of(by_indicator[i["indicator_id"]]) for i in indicators],
            label=f"Spine chart: {pcn['pcn_name']} against the spread of all PCNs and England",
        )
        compared = [r for r in rows if r["compared_to_england"] != "not compared"]
        counts = {
            s: sum(1 for r in compared if r["compared_to_england"] == s)
            for s in ("higher", "lower", "similar")
        }
        html = template.render(
            site=site,
            root="../",
            page_title=f"{pcn['pcn_name']} ({code})",
            pcn=pcn,
            rows=rows,
            practices=practices_by_pcn.get(code, []),
            peers=peers_by_pcn.get(code, []),
            trends=[
                {"indicator": catalogue[indicator_id], "points": points}
                for indicator_id, points in trends_by_pcn[code].items()
            ],
            spine_svg=spine_svg,
            compared_count=len(compared),
            counts=counts,
            csv_href="data/indicators.csv",
        )
        write_text(out / f"{code}.html", html)
        written += 1
    return written


def national_summary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per indicator: England value, PCN median and range, and how many PCNs differ."""
    return _records(
        con,
        """
        select
            i.*,
            any_value(f.england_value) as england_value,
            min(f.period_start) as period_start,
            max(f.period_end) as period_end,
            count(f.value) as pcns_with_value,
            median(f.value) as median_value,
            min(f.value) as min_value,
            max(f.value) as max_value,
            count(*) filter (where f.compared_to_england = 'higher') as higher,
            count(*) filter (where f.compared_to_england = 'lower') as lower,
            count(*) filter (where f.compared_to_england = 'similar') as similar,
            count(*) filter (where f.quintile = 5) as top_quintile,
            count(*) filter (where f.value = 0) as zero_value
        from latest_indicators f
        join dim_indicators i using (indicator_id)
        group by all
        order by i.sort_order
        """,
    )


def icb_summary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _records(
        con,
        """
        select
            p.icb_code,
            any_value(p.icb_name) as icb_name,
            f.indicator_id,
            count(f.value) as pcns,
            median(f.value) as median_value,
            min(f.value) as min_value,
            max(f.value) as max_value,
            any_value(f.icb_value) as icb_value
        from latest_indicators f
        join dim_pcns p using (pcn_code)
        where p.icb_code is not null
        group by p.icb_code, f.indicator_id
        order by p.icb_code, f.indicator_id
        """,
    )


def charts_for(summary: list[dict], spread: dict[str, list[float]]) -> dict[str, str]:
    return {
        s["indicator_id"]: distribution_chart(
            spread.get(s["indicator_id"], []),
            s["england_value"],
            x_label=f"{s['short_title']}",
            label=f"Histogram of {s['title']} across all PCNs, with England marked",
            decimals=s["decimals"],
        )
        for s in summary
    }


def render_site_pages(db_path: str, release_dir: str, site: dict, quality: dict) -> None:
    """index.html, methods.html, quality.html and report.html (the PDF is made from report.html)."""
    env = jinja_env()
    root = Path(release_dir)
    with connect(db_path) as con:
        summary = national_summary(con)
        spread = national_spread(con)
        pcns = _records(con, "select * from dim_pcns order by pcn_name, pcn_code")
        icbs = icb_summary(con)
        indicators = load_indicators(con)
    for s in summary:
        s["period_label"] = format_period(s["period_start"], s["period_end"])
    charts = charts_for(summary, spread)
    icb_rows: dict[str, dict] = {}
    for row in icbs:
        entry = icb_rows.setdefault(
            row["icb_code"], {"icb_code": row["icb_code"], "icb_name": row["icb_name"]}
        )
        entry[row["indicator_id"]] = row
    context = {
        "site": site,
        "summary": summary,
        "charts": charts,
        "pcns": pcns,
        "icbs": sorted(icb_rows.values(), key=lambda r: r["icb_name"] or r["icb_code"]),
        "indicators": indicators,
        "quality": quality,
        "root": "",
    }
    pages = {
        "index.html": "Home",
        "methods.html": "Methods",
        "quality.html": "Data quality",
        "report.html": "National report",
    }
    for name, title in pages.items():
        html = env.get_template(name).render(
            **context, page_title=title, csv_href="data/indicators.csv"
        )
        write_text(root / name, html)


# Links and assets resolve against this fixed base, not the release folder's path, so the PDF
# (which keeps link targets) is identical whichever folder it was built in.
RELEASE_BASE_URL = "file:///pcn-benchmark-release/"


class ReleaseFetcher(URLFetcher):
    """Reads the release folder's own files; refuses every other URL (no network)."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols={"file"})
        self.root = root

    def fetch(self, url: str, headers: dict | None = None) -> Any:
        if not url.startswith(RELEASE_BASE_URL):
            raise ValueError(f"refusing to fetch {url}: the PDF uses its release's files only")
        return super().fetch(self.root.as_uri() + "/" + url[len(RELEASE_BASE_URL) :], headers)


def render_report_pdf(release_dir: str, site: dict) -> Path:
    """report.pdf from report.html with the print stylesheet; nothing is fetched off this disk."""
    from weasyprint import HTML

    # inline SVG style attributes are also seen by the HTML CSS parser, which warns about each
    # SVG property it does not know; the SVG renderer applies them. Keep real errors only.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    root = Path(release_dir).resolve()
    html = HTML(
        string=(root / "report.html").read_text(encoding="utf-8"),
        base_url=RELEASE_BASE_URL,
        url_fetcher=ReleaseFetcher(root),
    )
    target = root / "report.pdf"
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".report.pdf-")
    os.close(fd)
    try:
        html.write_pdf(tmp, pdf_variant="pdf/ua-1")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


# ---------------------------------------------------------------------------------------------
# Downloads

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """CSV cells for people and spreadsheets: integers without '.0', text never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        # 12 significant digits (at most 10 decimals): more than any source's precision, and
        # never the last bits of a double, which depend on the order numbers were added
        value = float(f"{round(value, 10):.12g}")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text  # neutralised: a spreadsheet shows it as text, never runs it
    return text


def write_csv(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> int:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    rows = cursor.fetchall()
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    write_text(path, buffer.getvalue())
    return len(rows)


def write_downloads(db_path: str, release_dir: str) -> dict[str, int]:
    data = Path(release_dir) / "data"
    with connect(db_path) as con:
        return {
            "indicators.csv": write_csv(
                con,
                "select * from fct_pcn_indicators order by pcn_code, indicator_id, period_start",
                data / "indicators.csv",
            ),
            "icb_indicators.csv": write_csv(
                con,
                "select * from fct_icb_indicators order by icb_code, indicator_id, period_start",
                data / "icb_indicators.csv",
            ),
            "practice_pcn_lookup.csv": write_csv(
                con,
                "select * from dim_practices order by practice_code",
                data / "practice_pcn_lookup.csv",
            ),
        }
