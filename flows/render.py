"""Render the publication from the marts: HTML pages (Jinja2) and PDFs (WeasyPrint).

Rendering reads only the marts, through a read-only DuckDB connection opened after dbt has
finished. Per-PCN pages are rendered in batches from plain inputs (PCN codes, the database path,
the release folder and the site metadata), so batches can run in parallel task runners.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import tempfile
import time
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint.urls import URLFetcher

from flows import downloads
from flows.changes import previous_period, reference_date
from flows.charts import (
    SPC_MIN_POINTS,
    SPC_RECALCULATED,
    FunnelChart,
    FunnelPoint,
    RunChart,
    SpineChart,
    SpineIndicator,
    distribution_chart,
    spc_chart,
    spc_series,
)
from flows.settings import DUCKDB_OFFLINE, TEMPLATES_DIR

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

AREA_LEVELS = {"icb": "ICB", "sub_icb": "Sub-ICB", "england": "England", "pcn": "PCN"}

# how a value reads in its unit (the catalogue's `unit`): a percentage with "%", a rate "per ..."
UNIT_SUFFIX = {"percent": "%", "patients": " patients", "score": ""}

# ---------------------------------------------------------------------------------------------
# Jinja: one environment, autoescape on, StrictUndefined, number and date filters defined once


def format_number(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


def format_in_unit(value: float | None, indicator: dict) -> str:
    """A value with its unit, as a sentence says it: '14.27%', '3,535.4 per 100,000'."""
    if value is None:
        return "-"
    unit = indicator["unit"]
    suffix = UNIT_SUFFIX.get(unit, f" {unit}")
    return format_number(value, indicator["decimals"]) + suffix


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
    if is_financial_year(start, end):
        # a financial year, as the publishers name it, written in full
        return f"{financial_year(start)} (April {start.year} to March {end.year})"
    return f"{start:%b %Y} to {end:%b %Y}"


def is_financial_year(start: date | None, end: date | None) -> bool:
    return (
        start is not None
        and end is not None
        and (start.month, start.day, end.month, end.day) == (4, 1, 3, 31)
        and end.year == start.year + 1
    )


def financial_year(start: date) -> str:
    return f"{start.year}-{(start.year + 1) % 100:02d}"


def format_short_period(start: date | None, end: date | None) -> str:
    """A period for a table cell: a financial year by its name ('2024-25'; the table's footnote
    says what it spans), anything else as format_period writes it."""
    if start is not None and is_financial_year(start, end):
        return financial_year(start)
    return format_period(start, end)


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
    env.filters["area_level"] = lambda level: AREA_LEVELS.get(level, level)
    env.filters["in_unit"] = format_in_unit
    env.filters["period"] = format_period  # start | period(end)
    return env


# mkstemp creates files only its owner can read; a published file is for everyone
PUBLISHED_MODE = 0o644


def write_text(path: Path, text: str) -> None:
    """Write atomically (a reader never sees half a page)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, PUBLISHED_MODE)
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
        config=DUCKDB_OFFLINE,
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


def _rows_by_pcn(
    con: duckdb.DuckDBPyConnection, mart: str, order: str, codes: list[str]
) -> dict[str, list[dict]]:
    """A per-PCN mart's rows for a batch of PCN codes, grouped by PCN in `order`."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in _records(
        con,
        f"select * from {mart} where pcn_code in (select unnest($1::varchar[])) "
        f"order by pcn_code, {order}",
        [codes],
    ):
        grouped[row["pcn_code"]].append(row)
    return grouped


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
    """The spine marker's signal: IMD's quintile (quintile 1, the most deprived, drawn darkest),
    "rank" for a PCN placed by percentile rank, else the PCN's own comparison with England."""
    if row["quintile"] is not None:
        return f"q{6 - row['quintile']}"
    if row["percentile_rank"] is not None:
        return "rank"
    return row["compared_to_england"]


def spine_centre(row: dict) -> float | None:
    """The spine's centre line: England, or the PCN median where England's figure is a total."""
    if row["unit"] == "patients":
        return row["pcn_median_value"]
    return row["england_value"]


# ---------------------------------------------------------------------------------------------
# Pages


# The spine chart at this fraction of its screen size fits the first PDF page under the header.
PRINT_SPINE_SCALE = 0.66


def scale_svg(svg: str, factor: float) -> str:
    """The same chart drawn smaller: WeasyPrint sizes an inline SVG by its width and height
    attributes (CSS sizes are ignored), and the viewBox scales the drawing with them."""

    def scaled(match: re.Match) -> str:
        return f'{match[1]}="{float(match[2]) * factor:.2f}pt"'

    head, rest = svg.split(">", 1)
    return re.sub(r'\b(width|height)="([\d.]+)pt"', scaled, head) + ">" + rest


# matplotlib's SVG text: anchor point, baseline, style (font size, anchor) and the escaped text
_SVG_TEXT = re.compile(
    r'<text style="font-size: ([\d.]+)px; font-family: [^;"]*; text-anchor: (start|middle|end)" '
    r'x="([-\d.]+)" y="([-\d.]+)" transform="rotate\(-0 [-\d.]+ [-\d.]+\)">([^<]*)</text>'
)
# DejaVu Sans: the baseline sits 0.846 em below the top of a line box 1 em high (ascent 0.928 em,
# descent 0.236 em, the half-leading shared above and below)
_BASELINE_EM = 0.846


def print_chart(svg: str, factor: float, label: str) -> str:
    """A chart for the PDF, drawn `factor` times its screen size: the drawing as an SVG image
    (data URL, its label as alternative text) and its horizontal text as HTML laid over it.

    WeasyPrint lays out SVG text letter by letter (about 0.3 ms a letter: a spine chart's labels
    cost more than the rest of its drawing), and inline, every element of the drawing joins the
    page's tree and is parsed as HTML and matched against every stylesheet. As an image it is
    parsed once as SVG; the labels, as HTML, stay text in the PDF at the place matplotlib put
    them (the anchor and baseline of each <text> element)."""
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    spans = []
    for size, anchor, x, y, text in _SVG_TEXT.findall(svg):
        font = float(size) * factor
        # a box the chart's width, its text aligned to the anchor point
        left = {"start": 0.0, "middle": width / 2, "end": width}[anchor]
        align = {"start": "left", "middle": "center", "end": "right"}[anchor]
        spans.append(
            f'<span class="chart-text" style="left: {(float(x) - left) * factor:.2f}pt; '
            f"top: {float(y) * factor - _BASELINE_EM * font:.2f}pt; width: {width * factor:.2f}pt; "
            f'font-size: {font:.2f}pt; text-align: {align}">{text}</span>'
        )
    drawing = scale_svg(_SVG_TEXT.sub("", svg), factor)
    data = base64.b64encode(drawing.encode("utf-8")).decode("ascii")
    alt = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return (
        f'<div class="chart-frame" style="width: {width * factor:.2f}pt; '
        f'height: {height * factor:.2f}pt">'
        f'<img alt="{alt}" src="data:image/svg+xml;base64,{data}">{"".join(spans)}</div>'
    )


def render_pcn_pages(
    db_path: str, codes: list[str], release_dir: str, site: dict, print_dir: str | None = None
) -> int:
    """Render pcn/<code>.html for a batch of PCN codes; returns the number written.

    With `print_dir`, also writes each PCN's print version (pcn_print.html) there for
    `render_pcn_pdfs`: it reuses the spine chart drawn for the page, so a PDF costs layout only.
    """
    env = jinja_env()
    template = env.get_template("pcn.html")
    print_template = env.get_template("pcn_print.html")
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
        peers_by_pcn = _rows_by_pcn(con, "dim_pcn_peers", "peer_rank", codes)
        # every PCN's position for the funnel plots (indicators measured at PCN level)
        funnel_points: dict[str, list[FunnelPoint]] = defaultdict(list)
        for indicator_id, *point in con.execute(
            "select indicator_id, denominator, value, funnel_lower95, funnel_upper95, "
            "funnel_lower998, funnel_upper998, adjusted_funnel_lower95, adjusted_funnel_upper95, "
            "adjusted_funnel_lower998, adjusted_funnel_upper998 from latest_indicators "
            "where funnel_lower95 is not null and value is not null and geography_level = 'pcn' "
            "order by indicator_id, pcn_code"
        ).fetchall():
            funnel_points[indicator_id].append(FunnelPoint(*point))
        # the areas a PCN's Talking Therapies figures come from, with their blending weights
        areas_by_pcn = _rows_by_pcn(con, "dim_pcn_areas", "area_rank", codes)
        practices_by_pcn = _rows_by_pcn(con, "dim_practices", "practice_code", codes)

    # how many PCNs with a value record none: the page says so beside "None recorded"
    record_none = {
        i: (sum(1 for v in values if v == 0), len(values)) for i, values in spread.items()
    }
    england = {r["indicator_id"]: r["england_value"] for rows in rows_by_pcn.values() for r in rows}
    centre = {r["indicator_id"]: spine_centre(r) for rows in rows_by_pcn.values() for r in rows}
    spine = SpineChart(
        [
            SpineIndicator(
                i["short_title"], centre.get(i["indicator_id"]), spread.get(i["indicator_id"], [])
            )
            for i in indicators
        ]
    )
    funnels = {
        indicator_id: FunnelChart(
            points,
            england[indicator_id],
            f"{catalogue[indicator_id]['short_title']}",
            key=f"funnel {indicator_id}",
        )
        for indicator_id, points in funnel_points.items()
        if england.get(indicator_id) is not None
    }
    run_charts: dict[tuple, RunChart] = {}  # run charts drawn once per batch, by their periods
    written = 0
    for code in sorted(codes):
        pcn = pcns[code]
        rows = rows_by_pcn[code]
        for row in rows:
            row["indicator"] = catalogue[row["indicator_id"]]
            row["period_label"] = format_period(row["period_start"], row["period_end"])
            row["period_short"] = format_short_period(row["period_start"], row["period_end"])
            row["is_financial_year"] = is_financial_year(row["period_start"], row["period_end"])
        by_indicator = {r["indicator_id"]: r for r in rows}
        spine_label = f"Spine chart: {pcn['pcn_name']} against the spread of all PCNs and England"
        spine_svg = spine.svg(
            [by_indicator[i["indicator_id"]]["value"] for i in indicators],
            [signal_of(by_indicator[i["indicator_id"]]) for i in indicators],
            label=spine_label,
        )
        funnel_figures = [
            funnel_figure(by_indicator[i], funnels[i], pcn["pcn_name"])
            for i in funnels
            if i in by_indicator
        ]
        trends = [
            trend_figure(catalogue[indicator_id], points, pcn["pcn_name"], run_charts)
            for indicator_id, points in trends_by_pcn[code].items()
        ]
        # the summary counts the PCN's own comparisons only; attributed rows are the area's
        compared = [
            r
            for r in rows
            if r["geography_level"] == "pcn" and r["compared_to_england"] != "not compared"
        ]
        counts = {
            s: sum(1 for r in compared if r["compared_to_england"] == s)
            for s in ("higher", "lower", "similar")
        }
        attributed = [r for r in rows if r["geography_level"] != "pcn" and r["value"] is not None]
        context = dict(
            site=site,
            root="../",
            page_title=f"{pcn['pcn_name']} ({code})",
            pcn=pcn,
            rows=rows,
            practices=practices_by_pcn.get(code, []),
            peers=peers_by_pcn.get(code, []),
            trends=trends,
            funnels=funnel_figures,
            spine_svg=spine_svg,
            compared_count=len(compared),
            counts=counts,
            attributed=attributed,
            areas=areas_by_pcn.get(code, []),
            record_none=record_none,
            csv_href="data/indicators.csv",
        )
        write_text(out / f"{code}.html", template.render(**context))
        if print_dir is not None:
            context["spine_svg"] = print_chart(spine_svg, PRINT_SPINE_SCALE, spine_label)
            write_text(
                Path(print_dir) / f"{code}.html", print_template.render(**context, for_pdf=True)
            )
        written += 1
    return written


def funnel_position(row: dict) -> str:
    """Where a PCN sits on its funnel plot, in words: whether it stands out from other PCNs, from
    `funnel_outlier` (dbt: against the over-dispersion-adjusted 99.8% limits where there are
    any, else the 99.8% limits); a row without the flag, against the limits around England."""
    value = row["value"]
    if value is None or row["funnel_lower95"] is None:
        return "not plotted"
    outlier = row.get("funnel_outlier")
    if outlier is not None:
        adjusted = row.get("adjusted_funnel_lower998") is not None
        limit = "over-dispersion-adjusted 99.8% limit" if adjusted else "99.8% limit"
        if outlier == "high":
            return f"stands out from other PCNs (above the {limit})"
        if outlier == "low":
            return f"stands out from other PCNs (below the {limit})"
        return f"does not stand out from other PCNs (within the {limit}s)"
    if value > row["funnel_upper998"]:
        return "above the 99.8% limit"
    if value < row["funnel_lower998"]:
        return "below the 99.8% limit"
    if value > row["funnel_upper95"]:
        return "above the 95% limit"
    if value < row["funnel_lower95"]:
        return "below the 95% limit"
    return "within the 95% limits"


# the comparison with England by the PCN's own 95% confidence interval, as the funnel's text says it
ENGLAND_INTERVAL_TEXT = {
    "higher": "higher than England (its 95% confidence interval is above England's value)",
    "lower": "lower than England (its 95% confidence interval is below England's value)",
    "similar": "similar to England (its 95% confidence interval includes England's value)",
    "not compared": "not compared with England",
}


def funnel_figure(row: dict, chart: FunnelChart, pcn_name: str) -> dict:
    indicator = row["indicator"]
    position = funnel_position(row)
    verb = "" if position.startswith(("stands", "does")) else "is "
    sentence = f"{pcn_name} {verb}{position}"
    england = ENGLAND_INTERVAL_TEXT.get(row["compared_to_england"], row["compared_to_england"])
    adjusted = row.get("adjusted_funnel_lower998") is not None
    label = (
        f"Funnel plot of {indicator['title']}: every PCN's value against its denominator, with "
        "95% and 99.8% limits around England"
        + (", and the same limits adjusted for over-dispersion between PCNs" if adjusted else "")
        + f". {sentence}. Compared with England by its 95% confidence interval, it is {england}."
    )
    return {
        "row": row,
        "position": position,
        "sentence": sentence,
        "england": england,
        "adjusted": adjusted,
        "svg": chart.svg(row["denominator"], row["value"], row["compared_to_england"], label),
    }


def trend_figure(
    indicator: dict,
    points: list[dict],
    pcn_name: str,
    run_charts: dict[tuple, RunChart] | None = None,
) -> dict:
    """The over-time table and, for a headline indicator, a chart of its periods at their dates:
    a run chart (NHS England's "Making Data Count" rules) on each run of SPC_MIN_POINTS or more
    consecutive, equally spaced periods with a value; with no such run, a plain line chart of the
    PCN with England, no limits and no signals (`run_charts`: the batch's drawn charts, shared
    by PCNs with the same periods)."""
    figure: dict[str, Any] = {
        "indicator": indicator,
        "points": points,
        "svg": None,
        "has_limits": False,
        "min_points": SPC_MIN_POINTS,
    }
    for p in points:
        p["spc_signal"] = None  # not assessed
    if not indicator["is_headline"] or sum(1 for p in points if p["value"] is not None) < 2:
        return figure
    dates = [p["period_end"] for p in points]
    series = spc_series(dates, [p["value"] for p in points])
    for p, signal in zip(points, series.signals, strict=True):
        p["spc_signal"] = signal

    def month(i: int) -> str:
        return dates[i].strftime("%b %Y")

    title = indicator["title"]
    span = f"{month(0)} to {month(len(dates) - 1)}"
    runs = ""
    if len(series.segments) > 1:
        runs = " Runs of consecutive periods: " + "; ".join(
            month(s) if e - s == 1 else f"{month(s)} to {month(e - 1)}" for s, e in series.segments
        )
        runs += " (no data between them, shaded)."
    if series.has_limits:
        assessed = [s for s in series.signals if s is not None]
        special = sum(1 for s in assessed if s)
        recalculated = [month(i) for i, s in enumerate(series.signals) if s == SPC_RECALCULATED]
        text = f"{special} of {len(assessed)} points show special cause variation"
        if recalculated:
            text += f"; limits recalculated after a shift from {', '.join(recalculated)}"
        if len(assessed) < sum(1 for p in points if p["value"] is not None):
            text += f"; periods outside a run of {SPC_MIN_POINTS} or more are not assessed"
        label = f"Run chart of {title} for {pcn_name}, {span}, each period at its date: {text}."
        caption = (
            f"{title} for {pcn_name}: run chart with each phase's mean and process limits. "
            f"{text[0].upper()}{text[1:]}."
        )
        figure["special_count"] = special
    else:
        text = (
            f"no run of {SPC_MIN_POINTS} or more consecutive periods (the longest has "
            f"{series.longest}), so no process limits and no point is flagged"
        )
        label = (
            f"Line chart of {title} for {pcn_name} and England, {span}, each period at its "
            f"date: {text}."
        )
        caption = f"{title}: {pcn_name} and England over time. {text[0].upper()}{text[1:]}."
        figure["special_count"] = 0
    figure["has_limits"] = series.has_limits
    figure["series"] = series
    figure["caption"] = caption + runs + " The numbers are in the table below."
    figure["svg"] = spc_chart(
        series,
        label=label + runs,
        england=[p["england_value"] for p in points],
        charts=run_charts,
    )
    return figure


def national_summary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per indicator: England value, PCN median and range, how many PCNs differ from England
    (their own comparisons only), how many record none or are not reported, and for attributed
    figures how many areas differ (each area counted once, from its own interval)."""
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
            count(*) filter (where f.value = 0) as zero_value,
            count(*) filter (
                where f.value is null and not f.is_suppressed and f.england_value is not null
                and p.has_member_practices
            ) as not_reported,
            any_value(f.geography_level) filter (where f.geography_level <> 'pcn') as area_level,
            count(distinct f.geography_code) filter (
                where f.area_compared_to_england in ('higher', 'lower', 'similar')
            ) as areas_compared,
            count(distinct f.geography_code) filter (
                where f.area_compared_to_england = 'higher'
            ) as areas_higher,
            count(distinct f.geography_code) filter (
                where f.area_compared_to_england = 'lower'
            ) as areas_lower,
            count(*) filter (where f.funnel_outlier = 'high') as outliers_high,
            count(*) filter (where f.funnel_outlier = 'low') as outliers_low,
            bool_or(f.adjusted_funnel_lower998 is not null) as is_overdispersed
        from latest_indicators f
        join dim_indicators i using (indicator_id)
        join dim_pcns p using (pcn_code)
        group by all
        order by i.sort_order
        """,
    )


def pcn_coverage(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many PCNs are published: with member practices, and open in ePCN with none."""
    with_practices, without = con.execute(
        "select count(*) filter (where has_member_practices), "
        "count(*) filter (where not has_member_practices) from dim_pcns"
    ).fetchone()
    return {"with_practices": with_practices, "without_practices": without}


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
            # England's registered patients is a total, not a PCN-sized value: no England line
            None if s["unit"] == "patients" else s["england_value"],
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
    site = {"source_changes": [], "revisions": [], **site}
    with connect(db_path) as con:
        summary = national_summary(con)
        coverage = pcn_coverage(con)
        spread = national_spread(con)
        pcns = _records(con, "select * from dim_pcns order by pcn_name, pcn_code")
        icbs = icb_summary(con)
        indicators = load_indicators(con)
        # over-dispersion of each funnel plot (its latest period, as the PCN pages draw it)
        dispersion = _records(
            con,
            "select d.*, i.title, i.decimals from fct_funnel_dispersion d "
            "join dim_indicators i using (indicator_id) "
            "qualify d.period_start = max(d.period_start) over (partition by d.indicator_id) "
            "order by i.sort_order",
        )
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
        "coverage": coverage,
        "dispersion": dispersion,
        "root": "",
    }
    context.update(pcn_changes(db_path, site))
    pages = {
        "index.html": "Home",
        "methods.html": "Methods",
        "quality.html": "Data quality",
        "report.html": "National report",
        "accessibility.html": "Accessibility statement",
        "changes.html": "What changed",
    }
    for name, title in pages.items():
        html = env.get_template(name).render(
            **context, page_title=title, csv_href="data/indicators.csv"
        )
        write_text(root / name, html)
    # a closed PCN keeps its page, saying where its practices went
    closed_template = env.get_template("pcn_closed.html")
    for c in context["closed"]:
        html = closed_template.render(
            **{**context, "root": "../"},
            c=c,
            page_title=f"{c['pcn_name']} ({c['pcn_code']}), closed",
            csv_href="data/indicators.csv",
        )
        write_text(root / "pcn" / f"{c['pcn_code']}.html", html)


def pcn_changes(db_path: str, site: dict) -> dict[str, Any]:
    """PCNs opened and closed (fct_pcn_changes): those dated in this period, and every closed
    PCN, each with the PCNs its practices joined (linked where that PCN has a page)."""
    window_end = reference_date(site["period"])
    window_start = reference_date(previous_period(site["period"]))
    with connect(db_path) as con:
        changes = _records(con, "select * from fct_pcn_changes order by change_date desc, pcn_code")
        published = {r[0] for r in con.execute("select pcn_code from dim_pcns").fetchall()}
    closed_codes = {c["pcn_code"] for c in changes if c["change_type"] == "closed"}
    for c in changes:
        c["successor_list"] = []
        for pair in (c["successors"] or "").split(";"):
            if pair:
                code, _, name = pair.partition("|")
                has_page = code in published or code in closed_codes
                c["successor_list"].append({"code": code, "name": name, "has_page": has_page})
    vintages = sorted({c["epcn_vintage"] for c in changes})
    epcn_vintage = vintages[-1] if vintages else None
    return {
        "window_start": window_start,
        "window_end": window_end,
        "previous_period_label": f"{window_start:%B %Y}",
        "window_changes": [c for c in changes if window_start < c["change_date"] <= window_end],
        "closed": [c for c in changes if c["change_type"] == "closed"],
        "epcn_vintage_label": format_period(*_month_bounds(epcn_vintage)) if epcn_vintage else "-",
        "epcn_is_older": epcn_vintage is not None and epcn_vintage < site["period"],
    }


def _month_bounds(vintage: str) -> tuple[date, date]:
    start = date.fromisoformat(f"{vintage}-01")
    return start, reference_date(vintage)


# Links and assets resolve against this fixed base, not the release folder's path, so the PDF
# (which keeps link targets) is identical whichever folder it was built in.
RELEASE_BASE_URL = "file:///pcn-benchmark-release/"


class ReleaseFetcher(URLFetcher):
    """Reads the release folder's own files and data: URLs (the PDF's charts); refuses every
    other URL (no network)."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols={"file", "data"})
        self.root = root

    def fetch(self, url: str, headers: dict | None = None) -> Any:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if not url.startswith(RELEASE_BASE_URL):
            raise ValueError(f"refusing to fetch {url}: the PDF uses its release's files only")
        return super().fetch(self.root.as_uri() + "/" + url[len(RELEASE_BASE_URL) :], headers)


@cache
def _pdf_resources() -> tuple[Any, list[Any]]:
    """One FontConfiguration and the parsed site + print stylesheets, shared by every PDF a
    process writes (parsing CSS and loading fonts per document would dominate a PCN PDF)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    # inline SVG style attributes are also seen by the HTML CSS parser, which warns about each
    # SVG property it does not know; the SVG renderer applies them. Keep real errors only.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    fonts = FontConfiguration()
    static = TEMPLATES_DIR / "static"
    sheets = [
        CSS(filename=str(static / name), font_config=fonts) for name in ("site.css", "print.css")
    ]
    return fonts, sheets


def _write_pdf(html: str, base_url: str, root: Path, target: Path) -> None:
    """A tagged PDF (PDF/UA-1: title and language from the HTML), written atomically."""
    from weasyprint import HTML

    fonts, sheets = _pdf_resources()
    document = HTML(string=html, base_url=base_url, url_fetcher=ReleaseFetcher(root))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-")
    os.close(fd)
    try:
        document.write_pdf(
            tmp, stylesheets=sheets, font_config=fonts, pdf_variant="pdf/ua-1", pdf_tags=True
        )
        os.chmod(tmp, PUBLISHED_MODE)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_report_pdf(release_dir: str, site: dict) -> Path:
    """report.pdf from report.html with the print stylesheet; nothing is fetched off this disk."""
    root = Path(release_dir).resolve()
    html = (root / "report.html").read_text(encoding="utf-8")
    # the stylesheets are passed pre-parsed: drop the page's own links so they are not read twice
    html = re.sub(r'<link rel="stylesheet"[^>]*>\n?', "", html)
    target = root / "report.pdf"
    _write_pdf(html, RELEASE_BASE_URL, root, target)
    return target


def render_pcn_pdfs(codes: list[str], print_dir: str, release_dir: str) -> dict[str, float]:
    """pdf/<code>.pdf for a batch of PCNs from the print pages `render_pcn_pages` wrote;
    returns how many were written and the seconds they took."""
    root = Path(release_dir).resolve()
    start = time.perf_counter()
    for code in sorted(codes):
        source = Path(print_dir) / f"{code}.html"
        _write_pdf(
            source.read_text(encoding="utf-8"),
            RELEASE_BASE_URL + "pcn/",  # the print page links like pcn/<code>.html
            root,
            root / "pdf" / f"{code}.pdf",
        )
    return {"pdfs": len(codes), "seconds": round(time.perf_counter() - start, 3)}


# ---------------------------------------------------------------------------------------------
# Downloads

# CSV cells: one definition, shared with the other download formats
_cell = downloads.csv_cell


def write_downloads(db_path: str, release_dir: str) -> dict[str, int]:
    """data/: indicators and ICB indicators as CSV, Parquet and ODS, the practice lookup, and
    dictionary.csv; returns the rows written per file."""
    with connect(db_path) as con:
        return downloads.write_downloads(con, Path(release_dir) / "data")
