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
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT, SAMPLE
from tests.recompute import ALL_INDICATORS, NOT_AVAILABLE, latest_rows, recompute

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("pcn-benchmark"))


def sample_pcns() -> list[str]:
    """Every 33rd PCN open at the reference date, and Stockton (named in a test)."""
    return sorted({*sorted(open_pcns_in_epcn(date(2026, 7, 31)))[::33], "U89141"})


def run_cli(out: Path, prefect_home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    pages = [arg for code in sample_pcns() for arg in ("--pcn", code)]
    return subprocess.run(
        [CLI, "run", "--out", str(out), *pages],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("prefect_home")
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    runs = [run_cli(first, home), run_cli(second, home)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
    return {"first": first / "site", "second": second / "site", "stdout": runs[0].stdout}


def open_pcns_in_epcn(reference: date) -> set[str]:
    book = openpyxl.load_workbook(SAMPLE / "ods_epcn/2025-01/ePCN.xlsx", read_only=True)
    codes = set()
    for row in list(book["PCNDetails"].iter_rows(values_only=True))[1:]:
        code, opened, closed = row[0], row[4], row[5]
        opened_on = date(int(opened[:4]), int(opened[4:6]), int(opened[6:8]))
        closed_on = date(int(closed[:4]), int(closed[4:6]), int(closed[6:8])) if closed else None
        if opened_on <= reference and (closed_on is None or closed_on > reference):
            codes.add(code)
    return codes


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
        # GX Data Docs name their pages by run time (DESIGN.md "Determinism" exempts them)
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
