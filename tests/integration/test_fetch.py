"""`fetch` against look-alike publisher pages on 127.0.0.1 that serve small real files.

The pages are shaped like NHS England Digital's (a series page linking release pages, whose file
links sit under hashed folders); the files are the publishers' own bytes, cut small (see
tests/fixtures/fetch/PROVENANCE.md). The hostile archives (a '..' member, an absolute path, a
symbolic link, a zip bomb) are built here, in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from string import Template

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.fetch import (
    ENV_BASE_URL,
    PUBLICATIONS,
    FetchFailure,
    Limits,
    fetch,
    find_releases,
    pick_links,
)
from flows.landing import scan

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fetch"
STATISTICAL = "/data-and-information/publications/statistical/"
SERIES = STATISTICAL + "patients-registered-at-a-gp-practice"
SOURCE = "gp_registrations"
LANDED_AT = "2026-08-01T09:00:00Z"
# generous timeout (a busy machine must not turn into a spurious retry), tiny backoff
FAST = {"timeout": 5.0, "retries": 2, "backoff": 0.01}

PRAC_ALL_ZIP = (FIXTURES / "gp-reg-pat-prac-all.zip").read_bytes()
PRAC_MAP = (FIXTURES / "gp-reg-pat-prac-map.csv").read_bytes()
QUIN_AGE = (FIXTURES / "gp-reg-pat-prac-quin-age.csv").read_bytes()
RELEASE_FILES = {
    "gp-reg-pat-prac-all.zip": PRAC_ALL_ZIP,
    "gp-reg-pat-prac-map.csv": PRAC_MAP,
    "gp-reg-pat-prac-quin-age.csv": QUIN_AGE,
}
# offered on the page, never wanted: it must not be downloaded (and is not served)
DISTRACTOR = "gp-reg-pat-prac-sing-age-regions.zip"
PRAC_ALL_MEMBER = zipfile.ZipFile(io.BytesIO(PRAC_ALL_ZIP)).read("gp-reg-pat-prac-all.csv")
LANDED_NAMES = [
    "_manifest.json",
    "gp-reg-pat-prac-all.csv",
    "gp-reg-pat-prac-all.zip",
    "gp-reg-pat-prac-map.csv",
    "gp-reg-pat-prac-quin-age.csv",
]


def hashed(slug: str, name: str) -> str:
    """Each release's files sit under a hashed folder that changes with every release."""
    digest = hashlib.sha1(f"{slug}/{name}".encode()).hexdigest().upper()
    return f"/{digest[:2]}/{digest[2:8]}/{name}"


def title(slug: str) -> str:
    return " ".join(part.capitalize() for part in slug.split("-"))


def listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def manifest(folder: Path) -> dict[str, dict]:
    data = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    return {f["name"]: f for f in data["files"]}


Handler = Callable[[Request], Response]


class Publisher:
    """The publisher's site as these tests serve it, with faults that fire once each."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.routes: dict[str, Handler] = {}
        self.faults: dict[str, list[Handler]] = defaultdict(list)
        self.hits: Counter[str] = Counter()
        server.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)

    def _dispatch(self, request: Request) -> Response:
        query = request.query_string.decode()
        key = request.path + (f"?{query}" if query else "")
        self.hits[key] += 1
        if self.faults[key]:
            return self.faults[key].pop(0)(request)
        handler = self.routes.get(key)
        return handler(request) if handler else Response("Not Found", status=404)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    @property
    def root(self) -> str:
        return self.url("/").rstrip("/")

    @property
    def bases(self) -> dict[str, str]:
        return {
            "digital": self.root + STATISTICAL,
            "ods": self.root + "/assets/ods/current/",
            "fingertips": self.root + "/api/",
        }

    def serve(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.routes[path] = lambda _request: Response(body, content_type=content_type)

    def series(self, *slugs: str, upcoming: str = "") -> None:
        def item(slug: str) -> str:
            return (
                f'      <li><a href="{SERIES}/{slug}">Patients Registered at a GP Practice, '
                f"{title(slug)}</a></li>"
            )

        page = Template((FIXTURES / "pages/series.html").read_text(encoding="utf-8")).substitute(
            title="Patients Registered at a GP Practice",
            latest=item(slugs[0]),
            upcoming=item(upcoming) if upcoming else "",
            past="\n".join(item(s) for s in slugs[1:]),
        )
        self.serve(SERIES, page.encode(), "text/html; charset=utf-8")

    def release(
        self, slug: str, files: dict[str, bytes] | None = None, links: list[str] | None = None
    ) -> dict[str, str]:
        """A release page linking `links` (default: the files and a distractor), and its files."""
        files = RELEASE_FILES if files is None else files
        names = [*files, DISTRACTOR] if links is None else links
        paths = {name: hashed(slug, name) for name in names}
        resources = "\n".join(
            f'    <li><a class="nhsd-a-box-link" href="{self.url(path)}">{name}</a></li>'
            for name, path in paths.items()
        )
        page = Template((FIXTURES / "pages/release.html").read_text(encoding="utf-8")).substitute(
            title=f"Patients Registered at a GP Practice, {title(slug)}",
            series=SERIES,
            series_title="Patients Registered at a GP Practice",
            resources=resources,
            edited="14 July 2026 9:30 am",
        )
        self.serve(f"{SERIES}/{slug}", page.encode(), "text/html; charset=utf-8")
        for name, body in files.items():
            if name in paths:
                kind = "text/csv" if name.endswith(".csv") else "application/zip"
                self.serve(paths[name], body, kind)
        return paths


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    # threaded: a handler that sleeps past the client's timeout must not block the retry
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def publisher(server: HTTPServer) -> Iterator[Publisher]:
    yield Publisher(server)
    server.clear()  # a fresh site for the next test


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return tmp_path / "raw"


def run(publisher: Publisher, raw: Path, period: str, **kwargs):
    options = {"landed_at": LANDED_AT, **FAST, **kwargs}
    return fetch(period, raw, [SOURCE], publisher.bases, **options).get(SOURCE)


def zip_bytes(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return buffer.getvalue()


# --- the normal path ------------------------------------------------------------------------------


def test_fetch_lands_the_release_and_its_extracted_members(publisher: Publisher, raw: Path):
    publisher.series("july-2026", "june-2026")
    paths = publisher.release("july-2026")
    publisher.release("june-2026")

    result = run(publisher, raw, "2026-07")

    assert (result.status, result.vintage) == ("landed", "2026-07"), result.message
    folder = raw / SOURCE / "2026-07"
    assert listing(raw) == [SOURCE, f"{SOURCE}/2026-07"] + [
        f"{SOURCE}/2026-07/{n}" for n in LANDED_NAMES
    ]
    assert (folder / "gp-reg-pat-prac-all.csv").read_bytes() == PRAC_ALL_MEMBER
    entries = manifest(folder)
    for name, body in RELEASE_FILES.items():
        assert (folder / name).read_bytes() == body
        assert entries[name]["url"] == publisher.url(paths[name])
        assert entries[name]["bytes"] == len(body)
        assert entries[name]["sha256"] == hashlib.sha256(body).hexdigest()
        assert entries[name]["release_page"] == publisher.url(f"{SERIES}/july-2026")
        assert entries[name]["landed_at"] == LANDED_AT
    member = entries["gp-reg-pat-prac-all.csv"]
    assert member["extracted_from"] == "gp-reg-pat-prac-all.zip"
    assert member["origin"] == "gp-reg-pat-prac-all.zip!gp-reg-pat-prac-all.csv"
    assert member["sha256"] == hashlib.sha256(PRAC_ALL_MEMBER).hexdigest()
    assert publisher.hits[paths[DISTRACTOR]] == 0
    # the landing zone reads back: the extracted CSV is preferred to the zip it came from
    landed = {(f.product, f.vintage): f.path.name for f in scan(raw)}
    assert landed[("prac_all", "2026-07")] == "gp-reg-pat-prac-all.csv"
    assert landed[("prac_map", "2026-07")] == "gp-reg-pat-prac-map.csv"
    assert {vintage for _, vintage in landed} == {"2026-07"}


def test_second_fetch_is_unchanged_and_a_replaced_file_lands_as_a_revision(
    publisher: Publisher, raw: Path
):
    publisher.series("july-2026")
    paths = publisher.release("july-2026")
    assert run(publisher, raw, "2026-07").status == "landed"
    before = {p: (raw / p).read_bytes() for p in listing(raw) if (raw / p).is_file()}

    again = run(publisher, raw, "2026-07", landed_at="2026-08-02T09:00:00Z")
    assert again.status == "unchanged", again.message
    assert {p: (raw / p).read_bytes() for p in listing(raw) if (raw / p).is_file()} == before

    # the publisher replaces the map (here: the same real file without its last row)
    replaced = b"".join(PRAC_MAP.splitlines(keepends=True)[:-1])
    publisher.serve(paths["gp-reg-pat-prac-map.csv"], replaced, "text/csv")
    revised = run(publisher, raw, "2026-07", landed_at="2026-08-15T09:00:00Z")

    assert revised.status == "revised", revised.message
    folder = raw / SOURCE / "2026-07"
    revision = folder / "revisions" / "2026-08-15"
    assert sorted(p.name for p in revision.iterdir()) == [
        "_manifest.json",
        "gp-reg-pat-prac-map.csv",
    ]
    assert (revision / "gp-reg-pat-prac-map.csv").read_bytes() == replaced
    assert manifest(revision)["gp-reg-pat-prac-map.csv"]["sha256"] == (
        hashlib.sha256(replaced).hexdigest()
    )
    for path, body in before.items():  # a landed file is never modified
        assert (raw / path).read_bytes() == body
    # the revision is now the copy in use: fetching it again changes nothing
    assert run(publisher, raw, "2026-07", landed_at="2026-08-20T09:00:00Z").status == "unchanged"
    assert not (folder / "revisions" / "2026-08-20").exists()


def test_the_newest_release_on_or_before_the_period_is_picked(publisher: Publisher, raw: Path):
    slugs = ("july-2026", "may-2026", "june-2026", "april-2026")  # as listed, not sorted
    publisher.series(*slugs)
    for slug in slugs:
        publisher.release(slug)

    result = run(publisher, raw, "2026-06")

    assert (result.status, result.vintage) == ("landed", "2026-06"), result.message
    assert sorted(p.name for p in (raw / SOURCE).iterdir()) == ["2026-06"]
    assert publisher.hits[f"{SERIES}/june-2026"] == 1
    assert publisher.hits[f"{SERIES}/july-2026"] == 0


def test_a_period_not_yet_listed_is_not_published_yet(publisher: Publisher, raw: Path):
    publisher.series("july-2026", "june-2026")
    publisher.release("july-2026")
    publisher.release("june-2026")

    result = run(publisher, raw, "2026-08")

    assert result.status == "not published yet"
    assert "2026-08" in result.message
    # the newest release that is out is still landed, so a run for the period has it
    assert result.vintage == "2026-07"
    assert (raw / SOURCE / "2026-07" / "gp-reg-pat-prac-map.csv").read_bytes() == PRAC_MAP

    before_any = run(publisher, raw / "other", "2026-03")
    assert (before_any.status, before_any.vintage, before_any.files) == (
        "not published yet",
        None,
        [],
    )
    assert listing(raw / "other") == []


def test_an_announced_release_without_files_is_not_published_yet(publisher: Publisher, raw: Path):
    publisher.series("july-2026", "june-2026", upcoming="august-2026")
    publisher.release("august-2026", files={}, links=[])  # the page exists, its files do not
    publisher.release("july-2026")

    result = run(publisher, raw, "2026-08")

    assert result.status == "not published yet"
    assert "2026-08 announced" in result.message
    assert result.vintage == "2026-07"


def test_ods_current_file_takes_its_vintage_from_the_zip_entry_date(
    publisher: Publisher, raw: Path
):
    epraccur = (FIXTURES / "epraccur.csv").read_bytes()
    entry = zipfile.ZipInfo("epraccur.csv", date_time=(2026, 2, 10, 6, 0, 0))
    publisher.serve("/assets/ods/current/epraccur.zip", zip_bytes((entry, epraccur)))

    report = fetch("2026-06", raw, ["ods_epraccur"], publisher.bases, **FAST)

    result = report.get("ods_epraccur")
    assert (result.status, result.vintage) == ("landed", "2026-02"), result.message
    folder = raw / "ods_epraccur" / "2026-02"
    assert (folder / "epraccur.csv").read_bytes() == epraccur
    entries = manifest(folder)
    assert entries["epraccur.csv"]["extracted_from"] == "epraccur.zip"
    assert entries["epraccur.zip"]["vintage_from"] == "zip entry date 2026-02-10"
    assert entries["epraccur.zip"]["url"] == publisher.url("/assets/ods/current/epraccur.zip")


def test_imd_lands_under_its_fixed_vintage_through_the_mirror_env_var(
    publisher: Publisher, raw: Path, monkeypatch: pytest.MonkeyPatch
):
    imd = (FIXTURES / "indicator-data.csv").read_bytes()
    query = "/api/all_data/csv/by_indicator_id?indicator_ids=93553"
    publisher.routes[query] = lambda _request: Response(imd, content_type="text/csv")
    monkeypatch.setenv(ENV_BASE_URL, publisher.root)

    report = fetch("2026-06", raw, ["imd"], **FAST)

    result = report.get("imd")
    assert (result.status, result.vintage) == ("landed", "2019-09"), result.message
    assert (raw / "imd/2019-09/indicator-data.csv").read_bytes() == imd
    assert manifest(raw / "imd/2019-09")["indicator-data.csv"]["url"] == publisher.url(query)
    early = fetch("2019-08", raw / "early", ["imd"], **FAST).get("imd")
    assert early.status == "not published yet"
    assert publisher.hits[query] == 1


# --- faults: each ends with a clear message and leaves no partial or stray file -------------------


def slow(body: bytes) -> Handler:
    def handler(_request: Request) -> Response:
        time.sleep(1.5)  # well past the 0.5 s timeout the test sets
        return Response(body)

    return handler


def status(code: int) -> Handler:
    return lambda _request: Response(f"error {code}", status=code)


def dropped(body: bytes) -> Handler:
    def handler(_request: Request) -> Response:
        def stream() -> Iterator[bytes]:
            yield body[: len(body) // 2]
            raise ConnectionResetError("dropped by the test server")

        return Response(stream(), headers={"Content-Length": str(len(body))})

    return handler


@pytest.mark.parametrize(
    "fault",
    [pytest.param(slow(PRAC_MAP), id="timeout"), pytest.param(status(503), id="503")],
)
def test_a_transient_fault_is_retried(publisher: Publisher, raw: Path, fault: Handler):
    publisher.series("july-2026")
    paths = publisher.release("july-2026")
    publisher.faults[paths["gp-reg-pat-prac-map.csv"]].append(fault)

    result = run(publisher, raw, "2026-07", timeout=0.5)

    assert result.status == "landed", result.message
    assert publisher.hits[paths["gp-reg-pat-prac-map.csv"]] == 2
    assert (raw / SOURCE / "2026-07" / "gp-reg-pat-prac-map.csv").read_bytes() == PRAC_MAP
    assert listing(raw / SOURCE / "2026-07") == LANDED_NAMES


HTML_ERROR = b"<!DOCTYPE html>\n<html><head><title>Page not found</title></head></html>\n"


def respond(body: bytes, content_type: str = "application/zip") -> Handler:
    return lambda _request: Response(body, content_type=content_type)


# built once, so that serving them is instant
ZIP_SLIP = zip_bytes(("../evil", PRAC_ALL_MEMBER))
ZIP_ABSOLUTE = zip_bytes(("/tmp/evil", PRAC_ALL_MEMBER))
ZIP_BOMB = zip_bytes(("gp-reg-pat-prac-all.csv", bytes(20 << 20)))  # 20 MB of zeros, ~20 KB


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info


ZIP_SYMLINK = zip_bytes((symlink("gp-reg-pat-prac-all.csv"), b"/etc/passwd"))


FAULTS = {
    # id: (file served at the map's or the zip's link, how it misbehaves, words in the message)
    "404": ("gp-reg-pat-prac-map.csv", [status(404)], "HTTP 404"),
    "500-every-time": ("gp-reg-pat-prac-map.csv", [status(500)] * 3, "gave up after 3 attempts"),
    "dropped-mid-body": ("gp-reg-pat-prac-map.csv", [dropped(PRAC_MAP)] * 3, "connection dropped"),
    "html-as-csv": (
        "gp-reg-pat-prac-map.csv",
        [respond(HTML_ERROR, "text/csv")],
        "is an HTML page, not a CSV",
    ),
    "zip-slip": (
        "gp-reg-pat-prac-all.zip",
        [respond(ZIP_SLIP)],
        "'../evil' is a '..' path",
    ),
    "absolute-path": (
        "gp-reg-pat-prac-all.zip",
        [respond(ZIP_ABSOLUTE)],
        "'/tmp/evil' is an absolute path",
    ),
    "symlink": (
        "gp-reg-pat-prac-all.zip",
        [respond(ZIP_SYMLINK)],
        "is a symbolic link",
    ),
    "zip-bomb": (
        "gp-reg-pat-prac-all.zip",
        [respond(ZIP_BOMB)],
        "a zip bomb?",
    ),
    "zip-served-as-html": (
        "gp-reg-pat-prac-all.zip",
        [respond(HTML_ERROR, "text/html")],
        "is an HTML page",
    ),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_a_fault_fails_the_source_with_its_url_and_leaves_nothing(
    publisher: Publisher, raw: Path, tmp_path: Path, fault: str
):
    name, handlers, words = FAULTS[fault]
    publisher.series("july-2026")
    paths = publisher.release("july-2026")
    publisher.faults[paths[name]].extend(handlers)

    result = run(publisher, raw, "2026-07")

    assert result.status == "failed"
    assert result.message.startswith(f"{SOURCE}: {publisher.url(paths[name])}: ")
    assert words in result.message
    assert publisher.hits[paths[name]] == len(handlers)  # 4xx and bad content: never retried
    assert listing(raw) == []
    assert not list(tmp_path.rglob("evil"))


def test_a_release_page_without_the_expected_link_fails(publisher: Publisher, raw: Path):
    publisher.series("july-2026")
    links = ["gp-reg-pat-prac-all.zip", "gp-reg-pat-prac-quin-age.csv", DISTRACTOR]
    publisher.release("july-2026", links=links)

    result = run(publisher, raw, "2026-07")

    assert result.status == "failed"
    assert result.message.startswith(f"{SOURCE}: {publisher.url(f'{SERIES}/july-2026')}: ")
    assert "no link for 'prac_map'" in result.message
    assert listing(raw) == []


def test_a_failed_fetch_leaves_an_earlier_landing_as_it_was(publisher: Publisher, raw: Path):
    publisher.series("july-2026")
    paths = publisher.release("july-2026")
    assert run(publisher, raw, "2026-07").status == "landed"
    before = {p: (raw / p).read_bytes() for p in listing(raw) if (raw / p).is_file()}
    publisher.faults[paths["gp-reg-pat-prac-quin-age.csv"]].extend([dropped(QUIN_AGE)] * 3)
    publisher.serve(paths["gp-reg-pat-prac-map.csv"], PRAC_MAP[:-200], "text/csv")

    result = run(publisher, raw, "2026-07", landed_at="2026-08-15T09:00:00Z")

    assert result.status == "failed"
    assert {p: (raw / p).read_bytes() for p in listing(raw) if (raw / p).is_file()} == before


def test_a_source_runs_each_of_its_publications_and_a_missing_series_page_fails_it(
    publisher: Publisher, raw: Path
):
    report = fetch("2026-06", raw, ["talking_therapies"], publisher.bases, **FAST)

    assert [(r.name, r.source, r.status) for r in report.sources] == [
        ("talking_therapies", "talking_therapies", "failed"),
        ("talking_therapies_annual", "talking_therapies", "failed"),
    ]
    monthly = publisher.url(
        STATISTICAL + "nhs-talking-therapies-monthly-statistics-including-employment-advisors"
    )
    assert report.sources[0].message == f"talking_therapies: {monthly}: HTTP 404 NOT FOUND"
    assert not report.ok
    assert listing(raw) == []


def test_limits_refuse_an_oversized_download(publisher: Publisher, raw: Path):
    publisher.series("july-2026")
    paths = publisher.release("july-2026")

    result = run(publisher, raw, "2026-07", limits=Limits(max_download_bytes=len(PRAC_MAP) - 1))

    assert result.status == "failed"
    assert "limit" in result.message
    assert publisher.url(paths["gp-reg-pat-prac-all.zip"]) in result.message
    assert listing(raw) == []


# --- the per-publication table, on the publishers' own slugs and file names -----------------------


@pytest.mark.parametrize(
    ("source", "slug", "vintage"),
    [
        ("gp_registrations", "july-2026", "2026-07"),
        ("gp_registrations", "may-2024", "2024-05"),
        ("pcn_workforce", "30-june-2026", "2026-06"),
        ("gp_workforce", "30-june-2026", "2026-06"),
        ("gp_workforce", "final-30-september-2019", "2019-09"),
        ("talking_therapies", "performance-march-2026", "2026-03"),
        ("talking_therapies_annual", "2024-25", "2025-03"),
        ("qof", "2024-25", "2025-03"),
        ("qof", "2018-19-pas", "2019-03"),
        ("qof", "quality-and-outcomes-framework-qof-2016-17", "2017-03"),
    ],
)
def test_release_slugs_give_the_reference_month(source: str, slug: str, vintage: str):
    pub = PUBLICATIONS[source]
    series = f"https://digital.nhs.uk{STATISTICAL}{pub.path}"
    html = (
        f'<a href="{series}/{slug}">release</a>'
        f'<a href="{series}">the series itself</a>'
        f'<a href="{STATISTICAL}another-series/{slug}">another series</a>'
        '<a href="/data-and-information/publications/upcoming-publications">upcoming</a>'
    )
    assert find_releases(pub, html, series) == [(vintage, f"{series}/{slug}")]


FILES = "https://files.digital.nhs.uk"
REAL_LINKS = [
    # (source, links on the page, the product's pick); the file names are the publishers' own
    (
        "talking_therapies",
        [f"{FILES}/C5/C280AE/nhstalkingtherapies_month_mar_2026_activity_performance.csv"],
        {"monthly": 0},
    ),
    (
        "talking_therapies",
        [f"{FILES}/30/203A87/nhstalkingtherapies_month_jul_2025_activity_final.csv"],
        {"monthly": 0},
    ),
    (
        "qof",
        [
            f"{FILES}/6F/C5E86E/qof-2324-prev-ach-pca-hd-prac.xlsx",
            f"{FILES}/DA/975A29/QOF2324.zip",
        ],
        {"prevalence": 1},
    ),
    (
        "qof",
        [
            f"{FILES}/EB/16B1C0/qof-2425-prac-dom-ach.xlsx",
            f"{FILES}/32/40B931/QOF%202022-23%20Raw%20data%20.csv%20files.zip",
        ],
        {"prevalence": 1},
    ),
    (
        "talking_therapies_annual",
        [
            f"{FILES}/B7/464F54/ther-based-outcomes2425-2.zip",
            f"{FILES}/4E/2104A0/psych-ther-ann-rep-csv-2024-25-2.zip",
        ],
        {"annual": 1},
    ),
    (
        "talking_therapies_annual",
        [f"{FILES}/1A/F2ABB3/psych-ther-ann-2019-20-csvs.zip"],
        {"annual": 0},
    ),
    ("qof", [f"{FILES}/90/6F833F/QOF_2122_V2.zip"], {"prevalence": 0}),
    ("qof", [f"{FILES}/AC/3C964F/QOF2021_v2.zip"], {"prevalence": 0}),
    ("qof", [f"{FILES}/E2/BF16AA/QOF_1920.zip"], {"prevalence": 0}),
    (
        "gp_workforce",
        [
            f"{FILES}/A7/B0FFAB/GPWIndividualCSV.012026.zip",
            f"{FILES}/EC/203865/GPWPracticeCSV.012026.zip",
        ],
        {"practice_detailed": 1},
    ),
    ("gp_workforce", [f"{FILES}/A2/457C00/GPWPracticeCSV.0919.zip"], {"practice_detailed": 0}),
    ("pcn_workforce", [f"{FILES}/A8/E524AA/PCNWFIndividualCSV.062026.zip"], {"individual": 0}),
    (
        "gp_registrations",
        [
            f"{FILES}/8B/19FFEE/gp-reg-pat-prac-sing-age-regions.zip",
            f"{FILES}/98/8142DB/gp-reg-pat-prac-map.zip",
            f"{FILES}/BB/362F1A/gp-reg-pat-prac-quin-age.zip",
            f"{FILES}/11/111111/gp-reg-pat-prac-all.zip",
            f"{FILES}/22/222222/gp-reg-pat-prac-all.csv",
        ],
        {"prac_map": 1, "quin_age": 2, "prac_all": 4},
    ),
]


@pytest.mark.parametrize(("source", "links", "picks"), REAL_LINKS)
def test_link_patterns_pick_the_publishers_file_names(
    source: str, links: list[str], picks: dict[str, int]
):
    page = "https://digital.nhs.uk/data-and-information/publications/statistical/x/y"
    html = "".join(f'<li><a href="{link}">{link.rsplit("/", 1)[1]}</a></li>' for link in links)
    assert pick_links(PUBLICATIONS[source], html, page) == {
        product: links[i] for product, i in picks.items()
    }


def test_two_different_links_for_one_product_are_refused():
    page = "https://digital.nhs.uk/data-and-information/publications/statistical/x/y"
    html = (
        f'<a href="{FILES}/AA/000001/PCNWFIndividualCSV.062026.zip">a</a>'
        f'<a href="{FILES}/BB/000002/PCNWFIndividualCSV.062026.zip">b</a>'
    )
    with pytest.raises(FetchFailure, match="2 different links match"):
        pick_links(PUBLICATIONS["pcn_workforce"], html, page)
