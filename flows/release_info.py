"""What a release says about itself: its period and release dates, the sources it read, and the
quality summary its pages show. Free of Prefect, dbt and Great Expectations, so the bare benchmark
(benchmarks/bare.py) renders the same pages from the same facts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from flows import render
from flows.normalise import NormalisedInput
from flows.settings import Settings
from flows.validate import CheckResult


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


# products published for a financial year, landed under the March it ends
FINANCIAL_YEAR_PRODUCTS = {("qof", "prevalence"), ("talking_therapies", "annual")}


def vintage_label(source: str, vintage: str, product: str | None = None) -> str:
    """A vintage as readers see it: a month, or a financial year written in full."""
    year = int(vintage[:4])
    if source == "qof" or (source, product) in FINANCIAL_YEAR_PRODUCTS:
        return f"{year - 1}-{year % 100:02d} (April {year - 1} to March {year})"
    return period_label(vintage)


def _tally(counts: dict[str, Any], result: CheckResult) -> None:
    """Count one check into a source's or a suite's run / passed / warnings / critical."""
    counts["run"] += 1
    if result.success:
        counts["passed"] += 1
    else:
        counts["warnings" if result.severity == "warning" else "critical"] += 1


def quality_summary(
    inputs: list[NormalisedInput],
    results: list[CheckResult],
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
        _tally(s, r)
        if not r.success:
            s["failures"].append(r.as_dict())
    by_product: dict[tuple[str, str], list[NormalisedInput]] = {}
    for i in sorted(inputs, key=lambda i: i.vintage):
        by_product.setdefault((i.source, i.product), []).append(i)
    for (source, product), items in sorted(by_product.items()):
        if source not in sources:
            continue
        latest = items[-1]
        text = f"{Path(latest.path).name} ({vintage_label(source, latest.vintage, product)})"
        if latest.source_status != "real":
            text += f", {latest.source_status}"
        if len(items) > 1:  # a series read for the trend: say where it starts
            first = vintage_label(source, items[0].vintage, product)
            text += f", with {len(items) - 1} earlier from {first}"
        sources[source]["files"].append({"text": text})
    suites: dict[str, dict[str, Any]] = {}
    for r in results:
        t = suites.setdefault(
            r.suite, {"suite": r.suite, "run": 0, "passed": 0, "warnings": 0, "critical": 0}
        )
        _tally(t, r)
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
            "select source, code_type, code, reason, fte from fct_unmatched_codes "
            "order by source, code_type, reason, code"
        ).fetchall()
        pcns = con.execute("select count(*) from dim_pcns").fetchone()[0]
        mapping = con.execute(
            "select practices_listed, practices_in_open_pcn, share_in_open_pcn, "
            "patient_share_in_open_pcn from qa_practice_mapping"
        ).fetchone()

    def codes(reason_start: str) -> list[str]:
        return [c for _, _, c, reason, _ in unmatched if reason.startswith(reason_start)]

    workforce_unmatched = codes("PCN employs staff")
    workforce_fte = {c: fte for _, _, c, reason, fte in unmatched if fte is not None}
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
            {"source": src, "code_type": kind, "code": code, "reason": reason, "fte": fte}
            for src, kind, code, reason, fte in unmatched
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
            "workforce_pcns_unmatched_fte": [
                {"code": c, "fte": workforce_fte.get(c)} for c in workforce_unmatched
            ],
            "workforce_pcns_not_reported": len(codes("PCN has member practices but no staff")),
            "practices_without_list_size": len(codes("in the membership but no list size")),
            "practices_without_qof": len(codes("in the membership but no QOF")),
        },
    }


def site_metadata(
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
        "sources": source_periods(inputs, products),
    }


def source_periods(inputs: list[NormalisedInput], products: dict) -> list[dict]:
    """Each source product's period as readers see it: its latest vintage, and where a series
    is read for the trend, where that series starts."""
    by_product: dict[tuple[str, str], list[NormalisedInput]] = {}
    for i in inputs:
        by_product.setdefault((i.source, i.product), []).append(i)
    rows = []
    for key, items in sorted(by_product.items()):
        items.sort(key=lambda i: i.vintage)
        latest, first = items[-1], items[0]
        label = vintage_label(latest.source, latest.vintage, latest.product)
        if len(items) > 1:
            label += f" (series from {vintage_label(first.source, first.vintage, first.product)})"
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
