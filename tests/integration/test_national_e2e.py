"""The one national end-to-end test: `pcn-benchmark run` on the bundled sample, twice.

Checks what a user would check: every PCN open in ePCN at the reference date has a page; the
PDF names England and a real PCN; indicators.csv equals an independent recomputation from the
raw sample files; a second run on the same inputs gives byte-identical files.
"""

from __future__ import annotations

import csv
import filecmp
import os
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


def run_cli(out: Path, prefect_home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    return subprocess.run(
        [CLI, "run", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        # with a PDF per PCN (about 1.2 s of CPU each, sequential until rendering is mapped
        # onto workers) one run is about 30 minutes on 2 shared cores
        timeout=3600,
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


def test_every_open_pcn_in_epcn_has_a_page(national):
    expected = open_pcns_in_epcn(date(2026, 7, 31))  # the default period: newest landed
    assert len(expected) > 1200
    pages = {p.stem for p in (national["first"] / "pcn").glob("*.html")}
    assert expected <= pages


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
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) > 1300
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(
        first, second, [str(f) for f in files if f.name != "manifest.json"], shallow=False
    )
    assert mismatch == [] and errors == []
