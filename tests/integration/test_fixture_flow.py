"""The whole flow on the two-ICB real extract, checked as a user would check the outputs."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_LANDING
from tests.recompute import (
    ALL_INDICATORS,
    NOT_AVAILABLE,
    latest_rows,
    recompute,
    recompute_splw_at,
)

pytestmark = pytest.mark.integration


def read_indicators(site: Path) -> list[dict]:
    with (site / "data/indicators.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_pcn_has_one_row_per_indicator_and_a_page(fixture_build):
    site = fixture_build["site"]
    rows = read_indicators(site)
    pcns = {r["pcn_code"] for r in rows}
    indicators = {r["indicator_id"] for r in rows}
    assert indicators == ALL_INDICATORS
    periods = {(r["indicator_id"], r["period_start"]) for r in rows}
    assert len(rows) == len(pcns) * len(periods)  # every PCN once per indicator and period
    assert len({(r["pcn_code"], r["indicator_id"], r["period_start"]) for r in rows}) == len(rows)
    pages = {p.stem for p in (site / "pcn").glob("*.html")}
    assert pages == pcns
    assert fixture_build["summary"]["pcns_published"] == len(pcns)


def test_indicator_values_equal_an_independent_recomputation(fixture_build):
    expected = recompute(FIXTURE_LANDING)
    rows = latest_rows(read_indicators(fixture_build["site"]))
    checked = 0
    for row in rows:
        want = expected.get((row["pcn_code"], row["indicator_id"]))
        if row["indicator_id"] in NOT_AVAILABLE:
            assert row["value"] == "" and row["england_value"] == "", row
            continue
        if want is None:
            assert row["value"] == "", row  # no practices: no value, never invented
            continue
        for column, value in want.items():
            assert float(row[column]) == pytest.approx(value, rel=1e-9, abs=1e-8), (
                row["pcn_code"],
                column,
            )
        checked += 1
    assert checked >= 24 * 13


def test_the_trend_uses_membership_and_list_sizes_in_force_at_each_census(fixture_build):
    rows = read_indicators(fixture_build["site"])
    census = "4.Primary Care Networks \u2013 December 2020 Individual Level.csv"
    expected = recompute_splw_at(
        FIXTURE_LANDING,
        date(2020, 12, 31),
        f"pcn_workforce/2020-12/{census}",
        "gp_registrations/2021-01/gp-reg-pat-prac-all.csv",  # nearest to 31 Dec 2020
    )
    splw = [r for r in rows if r["indicator_id"] == "splw_fte_per_10k"]
    assert len({r["period_start"] for r in splw}) == 12  # 11 quarters of 2020-22, and June 2026
    checked = 0
    for row in splw:
        if row["period_end"] == "2020-12-31" and row["pcn_code"] in expected:
            for column, value in expected[row["pcn_code"]].items():
                assert float(row[column]) == pytest.approx(value, rel=1e-9, abs=1e-8), row[
                    "pcn_code"
                ]
            checked += 1
    assert checked >= 15
    # coaches first appear in December 2020: earlier quarters are not available, not zero
    early = [
        r
        for r in rows
        if r["indicator_id"] == "hwbc_fte_per_10k" and r["period_end"] == "2020-09-30"
    ]
    assert early and all(r["value"] == "" and r["england_value"] == "" for r in early)


def test_comparisons_follow_the_95_percent_limits(fixture_build):
    for row in read_indicators(fixture_build["site"]):
        if row["lower_ci95"] == "":  # FTE and context rates, or not available: no interval
            assert row["compared_to_england"] == "not compared"
            assert row["compared_to_peers"] == "not compared"
            assert row["quintile"] in {"1", "2", "3", "4", "5", ""}
            continue
        low, up, england = (float(row[c]) for c in ("lower_ci95", "upper_ci95", "england_value"))
        expected = "higher" if low > england else "lower" if up < england else "similar"
        if row["geography_level"] != "pcn":  # the area's interval: the area's comparison
            assert row["compared_to_england"] == "not compared"
            assert row["area_compared_to_england"] == expected
            continue
        assert row["compared_to_england"] == expected
        if row["peer_group_value"]:
            peers = float(row["peer_group_value"])
            expected = "higher" if low > peers else "lower" if up < peers else "similar"
            assert row["compared_to_peers"] == expected


def test_pages_name_the_pcn_and_the_pdf_names_england(fixture_build):
    site = fixture_build["site"]
    row = read_indicators(site)[0]
    page = (site / "pcn" / f"{row['pcn_code']}.html").read_text(encoding="utf-8")
    assert row["pcn_name"].replace("&", "&amp;") in page
    assert "England" in page
    text = subprocess.run(
        ["pdftotext", str(site / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "England" in text
    assert "Primary mental health offer" in text
    assert "Severe mental illness (QOF MH register) prevalence" in text
    assert "NHS Cornwall and the Isles of Scilly" in " ".join(text.split())


def test_site_is_a_link_to_a_release_with_a_manifest(fixture_build):
    out, site = fixture_build["out"], fixture_build["site"]
    assert site.is_symlink()
    assert site.resolve().parent == (out / "releases").resolve()
    manifest = (site / "manifest.json").read_text(encoding="utf-8")
    for key in ('"run_id"', '"release_id"', '"sha256"', '"tool_versions"', '"stage_timings_s"'):
        assert key in manifest


def test_a_critical_failure_publishes_nothing(prefect_harness, landing_copy: Path, tmp_path: Path):
    from flows.pipeline import publish_benchmark
    from flows.validate import QualityGateError

    out = tmp_path / "out"
    publish_benchmark(period="2026-06", data_dir=str(landing_copy), out_dir=str(out))
    before = (out / "site").resolve()
    snapshot = {p: p.read_bytes() for p in before.rglob("*") if p.is_file()}

    # a practice listed twice in the list sizes: a critical raw expectation
    prac_all = landing_copy / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv"
    broken = tmp_path / "gp-reg-pat-prac-all.csv"
    lines = prac_all.read_text(encoding="utf-8").splitlines(keepends=True)
    broken.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    shutil.rmtree(prac_all.parent)
    from flows.landing import land_file

    land_file(broken, landing_copy, "gp_registrations", "2026-03", origin="test")
    with pytest.raises(QualityGateError, match="expect_compound_columns_to_be_unique"):
        publish_benchmark(period="2026-06", data_dir=str(landing_copy), out_dir=str(out))
    assert (out / "site").resolve() == before
    assert {p: p.read_bytes() for p in before.rglob("*") if p.is_file()} == snapshot


def test_icb_download_has_one_row_per_icb_indicator_and_period(fixture_build):
    """The gate's mart_icb_indicators suite found each trend row repeated once per period."""
    site = fixture_build["site"]
    with (site / "data/icb_indicators.csv").open(encoding="utf-8") as fh:
        icb_rows = list(csv.DictReader(fh))
    keys = [(r["icb_code"], r["indicator_id"], r["period_start"]) for r in icb_rows]
    assert len(keys) == len(set(keys))
    assert {r["icb_code"] for r in icb_rows} == {"QOC", "QT6"}
    england = {
        (r["indicator_id"], r["period_start"]): r["england_value"] for r in read_indicators(site)
    }
    for row in icb_rows:
        assert row["england_value"] == england[(row["indicator_id"], row["period_start"])], row
