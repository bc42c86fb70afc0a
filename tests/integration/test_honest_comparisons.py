"""Every figure says whose it is, and a comparison is only ever the PCN's own (issue "Honest
comparisons"), checked on the two-ICB fixture's outputs as a PCN lead would read them."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_LANDING
from tests.recompute import latest_rows

pytestmark = pytest.mark.integration

ATTRIBUTED = ("icb", "sub_icb")
SIGNALS = ("higher", "lower", "similar")


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def page_text(site: Path, name: str) -> str:
    html = (site / name).read_text(encoding="utf-8")
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture(scope="module")
def latest(fixture_build) -> list[dict]:
    return latest_rows(read_csv(fixture_build["site"] / "data/indicators.csv"))


def test_attributed_rows_are_the_areas_own_figures(fixture_build, latest):
    """A Talking Therapies row names its ICB, carries the ICB's own count and interval, is never
    compared as the PCN's, and its area comparison is the ICB's own comparison."""
    site = fixture_build["site"]
    icb = {
        (r["icb_code"], r["indicator_id"], r["period_start"]): r
        for r in read_csv(site / "data/icb_indicators.csv")
    }
    attributed = [r for r in latest if r["geography_level"] in ATTRIBUTED and r["value"]]
    assert len(attributed) >= 24 * 5
    for row in attributed:
        assert row["compared_to_england"] == "not compared", row
        assert row["compared_to_icb"] == "not compared", row
        assert row["compared_to_peers"] == "not compared", row
        if "+" in row["geography_code"]:  # a blend: no count, no interval, no comparison
            assert row["numerator"] == row["lower_ci95"] == "", row
            assert row["area_compared_to_england"] == "not compared", row
            continue
        area = icb[(row["geography_code"], row["indicator_id"], row["period_start"])]
        assert row["geography_name"] == area["icb_name"]
        for column in ("numerator", "denominator", "value", "lower_ci95", "upper_ci95"):
            assert float(row[column]) == pytest.approx(float(area[column]), rel=1e-12), column
        assert row["area_compared_to_england"] == area["compared_to_england"]
    # a PCN-level row is its own: its code, no area comparison
    for row in latest:
        if row["geography_level"] == "pcn":
            assert row["geography_code"] == row["pcn_code"]
            assert row["area_compared_to_england"] == ""


def test_the_page_summary_counts_the_pcns_own_comparisons_only(fixture_build, latest):
    site = fixture_build["site"]
    by_pcn: dict[str, list[dict]] = defaultdict(list)
    for row in latest:
        by_pcn[row["pcn_code"]].append(row)
    for code, rows in by_pcn.items():
        own = [
            r
            for r in rows
            if r["geography_level"] == "pcn" and r["compared_to_england"] != "not compared"
        ]
        counts = [sum(r["compared_to_england"] == s for r in own) for s in SIGNALS]
        text = page_text(site, f"pcn/{code}.html")
        found = re.search(
            r"Of (\d+) indicators? measured for this PCN and compared with England, "
            r"(\d+) (?:is|are) significantly higher, (\d+) significantly lower and (\d+) similar",
            text,
        )
        assert found, code
        assert [int(n) for n in found.groups()] == [len(own), *counts], code
        areas = sum(1 for r in rows if r["geography_level"] in ATTRIBUTED and r["value"])
        assert f"{areas} NHS Talking Therapies figures are ICB figures, not this PCN's own" in text
        # every attributed row names its area on the page, with its code
        for r in rows:
            if r["geography_level"] in ATTRIBUTED and r["value"]:
                assert f"{r['geography_name']} ({r['geography_code']})".replace("&", "&amp;") in (
                    site / f"pcn/{code}.html"
                ).read_text(encoding="utf-8")


def test_england_is_england(latest):
    """IMD's England is OHID's own England score; registered patients' England is England's
    total, and the PCN median is the PCN benchmark."""
    imd_file = FIXTURE_LANDING / "imd/2019-09/indicator-data.csv"
    ohid = {float(r["Value"]) for r in read_csv(imd_file) if r["Area Type"] == "England"}
    imd = {float(r["england_value"]) for r in latest if r["indicator_id"] == "imd_score"}
    assert len(ohid) == 1 and len(imd) == 1
    assert imd.pop() == pytest.approx(ohid.pop(), rel=1e-9)
    lists = read_csv(FIXTURE_LANDING / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv")
    total = sum(int(r["NUMBER_OF_PATIENTS"]) for r in lists)
    size_rows = [r for r in latest if r["indicator_id"] == "list_size" and r["value"]]
    assert {float(r["england_value"]) for r in size_rows} == {total}
    values = sorted(float(r["value"]) for r in size_rows)
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    assert all(float(r["pcn_median_value"]) == pytest.approx(median) for r in size_rows)


def test_percentile_rank_is_the_share_of_pcns_strictly_lower(latest):
    checked = 0
    by_indicator: dict[str, list[dict]] = defaultdict(list)
    for row in latest:
        if row["lower_ci95"] == "" and row["value"] and row["geography_level"] == "pcn":
            by_indicator[row["indicator_id"]].append(row)
    assert {"mhp_fte_per_10k", "list_size", "imd_score", "gp_fte_per_10k"} <= set(by_indicator)
    for rows in by_indicator.values():
        values = [float(r["value"]) for r in rows]
        for row in rows:
            lower = sum(v < float(row["value"]) for v in values)
            assert float(row["percentile_rank"]) == pytest.approx(100 * lower / len(values))
            assert row["compared_to_england"] == "not compared"
            checked += 1
    assert checked >= 24 * 8


def test_imd_quintiles_follow_ohids_method(latest):
    """OHID's method as UKHSA's Fingertips library computes it (phstatsmethods.ph_quantile)."""
    import pandas as pd
    from PHStatsMethods import ph_quantile

    rows = [r for r in latest if r["indicator_id"] == "imd_score" and r["value"]]
    frame = pd.DataFrame(
        {"pcn": [r["pcn_code"] for r in rows], "score": [float(r["value"]) for r in rows]}
    )
    expected = ph_quantile(frame, "score", nquantiles=5, invert=True)
    want = dict(zip(expected["pcn"], expected["quantile"].astype(int), strict=True))
    assert {r["pcn_code"]: int(r["quintile"]) for r in rows} == want
    # quintiles are for IMD only
    assert all(r["quintile"] == "" for r in latest if r["indicator_id"] != "imd_score")


def test_the_national_report_writes_each_value_in_its_unit(fixture_build):
    html = (fixture_build["site"] / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="key-messages"') : html.index('id="offer"')]
    messages = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    referrals = re.search(
        r"referrals received per 100,000 registered adults: England ([\d,.]+ per 100,000), ",
        messages,
    )
    assert referrals, messages
    assert "per 100,000%" not in messages
    assert re.search(r"prevalence: England \d+\.\d+%, ", messages)
    # attributed figures are counted by area, not by PCN
    assert re.search(r"published for ICBs only: \d+ of 2 ICBs are significantly higher", messages)


def test_financial_years_and_coverage_are_written_in_full(fixture_build):
    site = fixture_build["site"]
    text = page_text(site, "report.html")
    assert "2024-25 (April 2024 to March 2025)" in text
    assert re.search(r"Coverage \d+ PCNs with practices", text)
    assert "rebuilt - real figures re-serialised in the publisher's format" in text
    page = page_text(site, next((site / "pcn").glob("*.html")).relative_to(site).as_posix())
    assert "2024-25 (April 2024 to March 2025)" in page
