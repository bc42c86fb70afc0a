"""The one national end-to-end test: `pcn-benchmark run` on the bundled sample, twice.

Checks what a user would check: every PCN open in ePCN at the reference date is published; the
PDF names England and a real PCN; indicators.csv equals an independent recomputation from the
raw sample files; a second run on the same inputs gives byte-identical files.

Everything national is computed and checked in full (marts, quality gate, downloads, the report);
PCN pages and PDFs are rendered for a fixed sample of 40 PCNs (`--pcn`), because rendering all
1,305 of each takes about 40 minutes of CPU on 2 cores until rendering is spread over workers
(issue 8). The fixture tests check that every PCN gets a page and a PDF.
"""

from __future__ import annotations

import csv
import filecmp
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.national import BLEND, NOT_IN_CENSUS, open_pcns_in_epcn, sample_pcns
from tests.recompute import ALL_INDICATORS, NOT_AVAILABLE, latest_rows, recompute

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def national(national_first: dict, national_second: dict) -> dict:
    return {
        "first": national_first["site"],
        "second": national_second["site"],
        "stdout": national_first["stdout"],
    }


def test_run_says_where_the_outputs_are(national):
    assert "report.pdf" in national["stdout"]
    assert "indicators.csv" in national["stdout"]


def test_every_open_pcn_in_epcn_is_published(national):
    expected = open_pcns_in_epcn(date(2026, 7, 31))  # the default period: newest landed
    assert len(expected) > 1200
    with (national["first"] / "data/indicators.csv").open(encoding="utf-8") as fh:
        published = {row["pcn_code"] for row in csv.DictReader(fh)}
    assert expected <= published
    index = (national["first"] / "index.html").read_text(encoding="utf-8")
    assert all(code in index for code in expected)  # the findable list names every PCN


def test_the_sampled_pcns_have_a_page_and_a_two_page_pdf(national):
    site = national["first"]
    sample = set(sample_pcns())
    assert {p.stem for p in (site / "pcn").glob("*.html")} >= sample
    assert {p.stem for p in (site / "pdf").glob("*.pdf")} >= sample
    info = subprocess.run(
        ["pdfinfo", str(site / "pdf/U89141.pdf")], capture_output=True, text=True, check=True
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 1 <= pages <= 2


def test_pdf_names_england_and_a_real_pcn(national):
    text = subprocess.run(
        ["pdftotext", str(national["first"] / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "England" in text
    assert "NHS North East and North Cumbria Integrated Care Board" in " ".join(text.split())
    page = (national["first"] / "pcn/U89141.html").read_text(encoding="utf-8")
    assert "STOCKTON PCN" in page


def test_indicators_equal_a_recomputation_from_the_raw_files(national):
    expected = recompute(SAMPLE)
    with (national["first"] / "data/indicators.csv").open(encoding="utf-8") as fh:
        rows = latest_rows(list(csv.DictReader(fh)))
    assert {r["indicator_id"] for r in rows} == ALL_INDICATORS
    checked = 0
    for row in rows:
        want = expected.get((row["pcn_code"], row["indicator_id"]))
        if row["indicator_id"] in NOT_AVAILABLE:
            assert row["value"] == "" and row["england_value"] == "", row
            continue
        if want is None:
            assert row["value"] == ""
            continue
        for column, value in want.items():
            assert float(row[column]) == pytest.approx(value, rel=1e-9, abs=1e-8), (
                row["pcn_code"],
                column,
            )
        checked += 1
    assert checked > 1297 * 13


def test_a_second_run_gives_byte_identical_files(national):
    first, second = national["first"].resolve(), national["second"].resolve()

    def published(root: Path) -> list[Path]:
        # GX Data Docs name their pages by run time ("Determinism" in docs/ARCHITECTURE.md
        # exempts them)
        return sorted(
            p.relative_to(root)
            for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).parts[0] != "quality"
        )

    files = published(first)
    assert len(files) > 80
    assert files == published(second)
    _, mismatch, errors = filecmp.cmpfiles(
        first, second, [str(f) for f in files if f.name != "manifest.json"], shallow=False
    )
    assert mismatch == [] and errors == []


def _text(path: Path) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")).split())


def test_a_pcn_in_two_icbs_gets_a_named_blend_and_no_count(national):
    with (national["first"] / "data/indicators.csv").open(encoding="utf-8") as fh:
        rows = [
            r
            for r in latest_rows(list(csv.DictReader(fh)))
            if r["pcn_code"] == BLEND and r["indicator_id"] == "tt_referrals_per_100k"
        ]
    (row,) = rows
    assert row["geography_code"] == "QJK+QT6"  # Devon holds most of its patients
    assert row["numerator"] == "" and row["lower_ci95"] == "" and row["value"] != ""
    assert row["compared_to_england"] == row["area_compared_to_england"] == "not compared"
    text = _text(national["first"] / f"pcn/{BLEND}.html")
    assert "a blend of NHS Devon Integrated Care Board (QJK, 51%) and" in text
    assert "Not compared (a blend of areas)" in text
    assert "NHS Devon Integrated Care Board" in text and "NHS Cornwall" in text


def test_a_pcn_absent_from_the_census_is_not_reported_not_zero(national):
    census = (
        SAMPLE / "pcn_workforce/2026-06/1.Primary Care Networks - June 2026 Individual Level.csv"
    )
    with census.open(encoding="utf-8-sig") as fh:
        assert NOT_IN_CENSUS not in {r["PCN_CODE"] for r in csv.DictReader(fh)}
    with (national["first"] / "data/indicators.csv").open(encoding="utf-8") as fh:
        rows = [
            r
            for r in latest_rows(list(csv.DictReader(fh)))
            if r["pcn_code"] == NOT_IN_CENSUS
            and r["indicator_id"].endswith("_per_10k")
            and r["indicator_id"] != "gp_fte_per_10k"
        ]
    assert len(rows) == 5 and all(r["value"] == "" and r["numerator"] == "" for r in rows)
    assert "Not reported in this census" in _text(national["first"] / f"pcn/{NOT_IN_CENSUS}.html")
    quality = _text(national["first"] / "quality.html")
    assert "U05468, 11.8 FTE" in quality and "U59979, 15.3 FTE" in quality


def test_the_national_report_counts_areas_for_area_figures(national):
    text = _text(national["first"] / "report.html")
    assert re.search(r"published for ICBs only: \d+ of 42 ICBs are significantly higher", text)
    assert "3,535.4%" not in text and "England 3,535.4 per 100,000" in text
    assert re.search(r"\d+ of 1,2\d\d PCNs record none", text)
    assert "1,298 PCNs with practices (7 more are open with none)" in text
