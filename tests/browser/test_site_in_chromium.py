"""The published site in a real headless Chromium (Debian `chromium`, driven by Playwright's
Python client with the system browser: nothing is downloaded). A reader's checks: pages load with
no console errors and nothing from another host, the PCN filter finds a PCN by part of its name,
and axe-core finds no WCAG 2.2 A/AA violation."""

from __future__ import annotations

import csv
import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

AXE_SOURCE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def chromium_path() -> str:
    """The system Chromium (.ci/run installs Debian's `chromium`), or PCN_BENCHMARK_CHROMIUM."""
    path = os.environ.get("PCN_BENCHMARK_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (see .ci/run)")
    return path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(fixture_build) -> Iterator[str]:
    """The published site served over HTTP on 127.0.0.1, as a reader would get it."""
    handler = functools.partial(_QuietHandler, directory=str(fixture_build["site"].resolve()))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site_url: str):
    """A page that records console errors, page errors and any request leaving 127.0.0.1
    (which it blocks: the site must load nothing from another host)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: (
            page.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))

    def route(r):
        if r.request.url.startswith(site_url):
            return r.continue_()
        page.problems.append(f"request to another host: {r.request.url}")
        return r.abort()

    page.route("**/*", route)
    yield page
    context.close()


def first_pcn(site: Path) -> dict:
    with (site / "data/indicators.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["value"]]
    return min(rows, key=lambda r: r["pcn_code"])


def axe_violations(page) -> list[str]:
    page.add_script_tag(content=AXE_SOURCE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} - e.g. {v['nodes'][0]['target']}"
        for v in result["violations"]
    ]


def test_index_loads_cleanly_and_the_filter_finds_a_pcn_by_part_of_its_name(
    page, site_url, fixture_build
):
    pcn = first_pcn(fixture_build["site"])
    page.goto(site_url + "index.html")
    rows = page.locator("#pcn-table tbody tr")
    total = rows.count()
    assert total > 10
    # a word from the middle of the name, typed in lower case, as a reader would
    words = pcn["pcn_name"].split()
    fragment = max(words, key=len).lower()[1:-1] if len(words) > 1 else pcn["pcn_name"][1:-1]
    page.get_by_label("Filter by PCN name, code or ICB").fill(fragment)
    visible = page.locator("#pcn-table tbody tr:visible")
    assert 1 <= visible.count() < total
    assert any(pcn["pcn_name"] in text for text in visible.all_inner_texts())
    assert "match" in page.locator("#pcn-count").inner_text()
    page.get_by_label("Filter by PCN name, code or ICB").fill(pcn["pcn_code"].lower())
    assert visible.count() == 1
    assert page.problems == []


def test_index_has_no_accessibility_violations(page, site_url):
    page.goto(site_url + "index.html")
    assert axe_violations(page) == []
    assert page.problems == []


def test_a_pcn_page_loads_cleanly_with_no_accessibility_violations(page, site_url, fixture_build):
    pcn = first_pcn(fixture_build["site"])
    page.goto(site_url + f"pcn/{pcn['pcn_code']}.html")
    assert pcn["pcn_name"] in page.locator("h1").inner_text()
    # every chart has a text alternative
    charts = page.locator("figure.chart svg")
    assert charts.count() >= 2
    for i in range(charts.count()):
        assert charts.nth(i).get_attribute("role") == "img"
        assert len(charts.nth(i).get_attribute("aria-label") or "") > 20
    assert axe_violations(page) == []
    assert page.problems == []


@pytest.mark.parametrize("name", ["changes.html", "accessibility.html", "methods.html"])
def test_other_pages_have_no_accessibility_violations(page, site_url, name):
    page.goto(site_url + name)
    assert axe_violations(page) == []
    assert page.problems == []
