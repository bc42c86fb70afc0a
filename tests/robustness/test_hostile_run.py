"""One full fixture run with hostile organisation names and awkward values, checked in every
output a reader gets: HTML pages, the report PDF (pdftotext) and the CSV downloads.

The fixture landing zone is changed as a publisher could have served it:
- PCN, practice and ICB names carrying `<script>`, an attribute break-out with `onerror`, a
  spreadsheet formula, a right-to-left override (U+202E) and a 5,000-character name;
- a PCN that ODS ePCN lists as open with no practices;
- Talking Therapies with every figure suppressed (`*`).
Expected: the run publishes; names are escaped in HTML, shown as text in the PDF, never formulas
in CSV, stripped of bidi controls everywhere; missing figures are blank, never zero."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import openpyxl
import pytest
from markupsafe import escape

from tests.conftest import FIXTURE_LANDING, FIXTURE_PERIOD
from tests.robustness.conftest import FILES, CsvText, reland

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = '<script>alert("pcn")</script> PCN'
ONERROR = '"><img src=x onerror=alert(1)> PCN'
FORMULA = '=HYPERLINK("http://evil.example/","Click for details") PCN'
RLO = "NORTH \u202eNCP TSAE PCN"
LONG = "LONG " + "X" * 5000
HOSTILE_PCN_NAMES = (SCRIPT, ONERROR, FORMULA, RLO, LONG)
PRACTICE_NAME = "<svg onload=alert(2)> SURGERY"
ICB_NAME = "<script>alert('icb')</script> NHS Cornwall =1+1 ICB"
EMPTY_PCN = ("U99999", "@SUM(1+1) EMPTY <b>PCN</b>")


def relative(name: str) -> str:
    path = FILES[name][0]
    return str(path.relative_to(path.parents[2]))


def hostile_landing(landing: Path) -> dict[str, str]:
    """Edit the copy in place; returns the hostile PCN name given to each PCN code."""
    text = CsvText((landing / relative("prac_map")).read_bytes())
    code, name = text.column("PCN_CODE"), text.column("PCN_NAME")
    pcns = sorted({r[code] for r in text.rows[1:] if r[code] != "U"})
    named = dict(zip(pcns, HOSTILE_PCN_NAMES, strict=False))
    for row in text.rows[1:]:
        row[name] = named.get(row[code], row[name])
        if row[text.column("ICB_CODE")] == "QT6":
            row[text.column("ICB_NAME")] = ICB_NAME
    member = next(r for r in text.rows[1:] if r[code] == pcns[0])  # its page is rendered
    member[text.column("PRACTICE_NAME")] = PRACTICE_NAME
    reland(landing, relative("prac_map"), text.to_bytes())

    workbook = openpyxl.load_workbook(landing / relative("epcn"))
    sheet = workbook["PCNDetails"]
    template = [c.value for c in sheet[2]]
    sheet.append([EMPTY_PCN[0], EMPTY_PCN[1], *template[2:]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    reland(landing, relative("epcn"), buffer.getvalue())

    annual = CsvText((landing / relative("tt_annual")).read_bytes())
    first_measure = annual.column("Count_ReferralsReceived")
    for row in annual.rows[1:]:
        row[first_measure:] = ["*" if cell else cell for cell in row[first_measure:]]
    reland(landing, relative("tt_annual"), annual.to_bytes())
    # (every GP FTE 'NA' is no longer published: the quality gate's England reconciliation
    # stops that run; the marts still keep the indicator, see int_indicator_counts)
    return named


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> dict:
    import shutil

    from flows.pipeline import publish_benchmark

    root = tmp_path_factory.mktemp("hostile")
    landing = root / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    named = hostile_landing(landing)
    summary = publish_benchmark(
        period=FIXTURE_PERIOD,
        data_dir=str(landing),
        out_dir=str(root / "out"),
        pcn_codes=[*named, EMPTY_PCN[0]],
    )
    site = Path(summary["site"])
    pages = {p.relative_to(site).as_posix(): p.read_text("utf-8") for p in site.rglob("*.html")}
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(site / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {"site": site, "named": named, "pages": pages, "pdf": pdf}


def csv_rows(site: Path, name: str) -> list[dict]:
    with (site / "data" / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_hostile_pcn_gets_its_page(hostile):
    assert len(hostile["named"]) == len(HOSTILE_PCN_NAMES)
    for code in [*hostile["named"], EMPTY_PCN[0]]:
        assert f"pcn/{code}.html" in hostile["pages"]


def test_html_escapes_every_hostile_name(hostile):
    pages = hostile["pages"]
    for page, html in pages.items():
        for raw in ("<script>alert", "<img src=x", "<svg onload", "<b>PCN</b>"):
            assert raw not in html, (page, raw)
        assert "\u202e" not in html, page
    for code, name in hostile["named"].items():
        shown = str(escape(name.replace("\u202e", "")))
        assert shown in pages[f"pcn/{code}.html"], code
        assert shown in pages["index.html"], code
    first = sorted(hostile["named"])[0]
    assert str(escape(PRACTICE_NAME)) in pages[f"pcn/{first}.html"]
    lookup = csv_rows(hostile["site"], "practice_pcn_lookup.csv")
    assert PRACTICE_NAME in {r["practice_name"] for r in lookup}
    assert str(escape(ICB_NAME)) in pages["report.html"]


def test_csv_cells_are_never_formulas(hostile):
    site = hostile["site"]
    for name in ("indicators.csv", "icb_indicators.csv", "practice_pcn_lookup.csv"):
        for row in csv_rows(site, name):
            for column, cell in row.items():
                assert not cell.startswith(("=", "+", "@")), (name, column, cell)
                assert not (cell.startswith("-") and not _number(cell)), (name, column, cell)
                assert "\u202e" not in cell
    names = {r["pcn_name"] for r in csv_rows(site, "indicators.csv")}
    assert "'" + FORMULA in names
    assert "'" + EMPTY_PCN[1] in names
    assert LONG in names  # carried whole, not cut


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_the_report_pdf_shows_names_as_text(hostile):
    text = " ".join(hostile["pdf"].split())
    # the ICB table wraps the name over two lines, between other columns
    assert "<script>alert('icb')</script>" in text
    assert "NHS Cornwall =1+1 ICB" in text
    assert "\u202e" not in text


def test_suppressed_and_missing_figures_are_blank_never_zero(hostile):
    rows = csv_rows(hostile["site"], "indicators.csv")
    latest: dict[str, list[dict]] = {}
    for row in rows:
        latest.setdefault(row["indicator_id"], []).append(row)
    talking = [r for i, rs in latest.items() if i.startswith("tt_") for r in rs]
    assert talking and all(r["value"] == "" for r in talking)
    # figures from the sources that were not touched are still there
    assert any(r["value"] not in ("", "0") for r in latest["smi_prevalence"])


def test_a_pcn_with_no_practices_has_a_page_and_no_figures(hostile):
    rows = [r for r in csv_rows(hostile["site"], "indicators.csv") if r["pcn_code"] == "U99999"]
    assert rows and all(r["value"] == "" for r in rows)
    assert str(escape(EMPTY_PCN[1])) in hostile["pages"]["pcn/U99999.html"]
