"""The publication on the two-ICB fixture, checked as a reader would: the PDFs say what the
data says, keep to their page budgets and are tagged; downloads, changes and closed PCNs exist."""

from __future__ import annotations

import contextlib
import csv
import re
import subprocess
import zlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def pdf_text(path: Path) -> str:
    """The text in drawing order (-raw): a table cell's wrapped lines stay together."""
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)[1])


def pdf_objects(path: Path) -> bytes:
    """The PDF's bytes with its compressed streams inflated (the catalogue sits in one)."""
    data = path.read_bytes()
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        with contextlib.suppress(zlib.error):  # not every stream is deflated
            parts.append(zlib.decompress(match[1]))
    return b"\n".join(parts)


def latest_rows(site: Path) -> list[dict]:
    with (site / "data/indicators.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    latest = {}
    for row in rows:
        latest[row["indicator_id"]] = max(latest.get(row["indicator_id"], ""), row["period_start"])
    return [r for r in rows if r["period_start"] == latest[r["indicator_id"]]]


def catalogue() -> dict[str, dict]:
    """Each indicator's title and decimals as readers see them (the catalogue seed)."""
    seed = Path(__file__).resolve().parents[2] / "dbt_project/seeds/indicators.csv"
    with seed.open(encoding="utf-8") as fh:
        return {
            r["indicator_id"]: {
                "title": r["title"],
                "short_title": r["short_title"],
                "decimals": int(r["decimals"]),
            }
            for r in csv.DictReader(fh)
        }


def test_every_pcn_has_a_pdf_of_at_most_two_pages_with_its_name_titles_and_values(
    fixture_build,
):
    site = fixture_build["site"]
    rows = latest_rows(site)
    pages = {p.stem for p in (site / "pcn").glob("*.html")}
    pdfs = {p.stem: p for p in (site / "pdf").glob("*.pdf")}
    assert set(pdfs) == {r["pcn_code"] for r in rows}  # one per published PCN (closed: pages only)
    assert set(pdfs) <= pages
    counts = {code: pdf_pages(path) for code, path in pdfs.items()}
    assert all(1 <= n <= 2 for n in counts.values()), counts

    titles = catalogue()
    with_values = [r for r in rows if r["value"] and r["is_suppressed"] == "false"]
    code = max({r["pcn_code"] for r in with_values})
    text = pdf_text(pdfs[code])
    mine = [r for r in with_values if r["pcn_code"] == code]
    assert mine[0]["pcn_name"] in text
    for row in mine:
        indicator = titles[row["indicator_id"]]
        # the PDF's table names each indicator by its short title (the full one is on the web)
        assert indicator["short_title"] in text, indicator["short_title"]
        shown = f"{float(row['value']):,.{indicator['decimals']}f}"
        assert shown in text, (row["indicator_id"], shown)


def test_pdfs_are_tagged_with_a_title_language_and_bookmarks(fixture_build):
    site = fixture_build["site"]
    for path in [site / "report.pdf", next((site / "pdf").glob("*.pdf"))]:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        assert re.search(r"^Tagged:\s+yes", info, re.M), path.name
        assert re.search(r"^Title:\s+\S", info, re.M), path.name
        objects = pdf_objects(path)
        assert b"/Lang (en-GB)" in objects, path.name
        assert b"/Outlines" in objects, path.name  # bookmarks


def test_the_national_report_names_indicators_icbs_and_england_values(fixture_build):
    site = fixture_build["site"]
    text = pdf_text(site / "report.pdf")
    assert 10 <= pdf_pages(site / "report.pdf") <= 80
    titles = catalogue()
    rows = latest_rows(site)
    england = {r["indicator_id"]: r["england_value"] for r in rows if r["england_value"]}
    for indicator_id, value in england.items():
        indicator = titles[indicator_id]
        assert indicator["title"] in text, indicator["title"]
        assert f"{float(value):,.{indicator['decimals']}f}" in text, indicator_id
    for icb in {r["icb_code"] for r in rows if r["icb_code"]}:
        assert icb in (site / "data/icb_indicators.csv").read_text(encoding="utf-8")
    assert "Page 2 of" in text  # running footer with page numbers


def test_downloads_and_pages_of_the_publication_root_are_all_there(fixture_build):
    site = fixture_build["site"]
    for name in [
        "accessibility.html",
        "changes.html",
        "data/indicators.parquet",
        "data/indicators.ods",
        "data/icb_indicators.parquet",
        "data/icb_indicators.ods",
        "data/dictionary.csv",
    ]:
        assert (site / name).stat().st_size > 0, name
    accessibility = (site / "accessibility.html").read_text(encoding="utf-8")
    assert "WCAG" in accessibility and "2.2" in accessibility and "mailto:" in accessibility


def test_closed_pcns_keep_a_page_that_links_to_where_their_practices_went(fixture_build):
    site = fixture_build["site"]
    changes = (site / "changes.html").read_text(encoding="utf-8")
    closed = re.findall(
        r'<a href="pcn/(U\d+)\.html">[^<]*</a></td><td>\1</td><td>[^<]*</td>'
        r"<td>(?:Merged|Split|Closed)",
        changes,
    )
    for code in closed:
        page = (site / "pcn" / f"{code}.html").read_text(encoding="utf-8")
        assert "This PCN closed on" in page
        for target in re.findall(r'href="\.\./pcn/(U\d+)\.html"', page):
            assert (site / "pcn" / f"{target}.html").exists(), (code, target)
