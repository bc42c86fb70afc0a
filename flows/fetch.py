"""Download each publication's newest release on or before a period into the landing zone.

`fetch(period, raw_dir)` reads the publisher's pages, picks the file links by file-name pattern
(links sit under hashed folders such as `https://files.digital.nhs.uk/BB/362F1A/...` that change
with every release), downloads them with httpx, checks and unpacks them, and lands the files and
the zip members it extracted with `flows.landing.land_file` (manifest, revisions).

What a source's "release" is, per kind of publication (all knowledge lives in PUBLICATIONS):
- series on NHS England Digital: the series page links each release page by a slug that carries
  its reference date (`june-2026`, `30-june-2026`, `performance-march-2026`, `2024-25`); the
  vintage is that reference month (QOF: March of the year its QOF year ends);
- ODS `epcn.zip` / `epraccur.zip`: one current file, no release pages. The vintage is the month of
  the newest modification date of the zip entries landed from it (ePCN.xlsx, epraccur.csv): the
  date the publisher wrote the release, read from the bytes, so the same file always lands in the
  same folder (the real epcn.zip of April 2022 holds ePCN.xlsx dated 2022-04-27). Only when the
  zip carries no dates (1980-01-01) does the HTTP Last-Modified month decide;
- Fingertips IMD 2019 by practice: one fixed vintage, 2019-09 (IMD 2019 was released then).
Talking Therapies has two publications (monthly; annual as `talking_therapies_annual`): `--source
talking_therapies` fetches both and the report has a line for each.

"Not published yet": a series release is due once the newest release on or before the period is
older than `max_age_months` (the publisher's lag plus cadence, minus one). The newest release that
is out is still fetched, so a run for the period has the best data there is, and the report says
the due one is missing. A period before the first release is "not published yet" too.

Failures never leave a partial or stray file: every file of a source is downloaded, checked and
unpacked in a private staging folder inside the raw dir first; only when all of them are good
are they landed (each by temporary name and rename), and the staging folder is always removed.
"""

from __future__ import annotations

import calendar
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from flows import __version__
from flows.landing import land_file, sha256_of
from flows.sources import SOURCES

__all__ = [
    "DEFAULT_BASE_URLS",
    "ENV_BASE_URL",
    "PUBLICATIONS",
    "STATUSES",
    "FetchReport",
    "Limits",
    "LinkSpec",
    "Publication",
    "SourceReport",
    "fetch",
    "find_releases",
    "pick_links",
]

log = logging.getLogger(__name__)

LANDED, UNCHANGED, REVISED, NOT_PUBLISHED, FAILED = (
    "landed",
    "unchanged",
    "revised",
    "not published yet",
    "failed",
)
STATUSES = (LANDED, UNCHANGED, REVISED, NOT_PUBLISHED, FAILED)

ENV_BASE_URL = "PCN_BENCHMARK_PUBLISHER_BASE_URL"
"""A mirror root (e.g. `http://127.0.0.1:8000`): replaces the scheme and host of every publisher
base below and keeps their paths, so a mirror serves the publishers' own paths."""

DEFAULT_BASE_URLS: dict[str, str] = {
    "digital": "https://digital.nhs.uk/data-and-information/publications/statistical/",
    "ods": "https://files.digital.nhs.uk/assets/ods/current/",
    "fingertips": "https://fingertips.phe.org.uk/api/",
}

USER_AGENT = f"pcn-mh-benchmark/{__version__} (httpx)"
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MONTHS: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(calendar.month_name) if name},
    **{name.lower(): i for i, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}
# file extensions of the resources a release page offers (anything else is navigation)
RESOURCE_EXT = re.compile(r"\.(csv|zip|xlsx?|xlsm|ods|pdf|docx?|rar|7z|txt|json)$", re.I)
NO_ZIP_DATE = (1980, 1, 1)
T = TypeVar("T")


# --- the per-publication knowledge: one entry per publication ---------------------------------


@dataclass(frozen=True)
class LinkSpec:
    """One product's file on a release page (or at a fixed URL)."""

    product: str
    patterns: tuple[str, ...]
    """Regexes on the link's file name (percent-decoded, case-insensitive), best first: the first
    pattern that any link matches wins (`.csv` before `.zip` when a release offers both)."""
    members: str | None = None
    """Regex on the file names of the zip members to extract and land; None: land the zip only."""
    member_required: bool = False
    """The zip must hold at least one member matching `members` (else the release is wrong)."""


def _month_year(match: re.Match[str]) -> str | None:
    month = MONTHS.get(match["month"].lower())
    return f"{int(match['year']):04d}-{month:02d}" if month else None


def _qof_year(match: re.Match[str]) -> str | None:
    """`2024-25` -> `2025-03`: a QOF year runs April to March."""
    start, end = int(match["start"]), int(match["end"])
    return f"{start + 1:04d}-03" if (start + 1) % 100 == end else None


@dataclass(frozen=True)
class Publication:
    """How to find, pick and date one source's releases."""

    source: str
    site: str
    """Key of the base URL (DEFAULT_BASE_URLS) the path below sits under."""
    path: str
    """Series path (release pages are `<series>/<slug>`), or a direct file's own path."""
    links: tuple[LinkSpec, ...]
    slug: str | None = None
    """Regex on the last segment of a release page's path; None for a file without release pages."""
    vintage_of: Callable[[re.Match[str]], str | None] = _month_year
    """The release's reference month (`YYYY-MM`) from the slug match; None if not a date."""
    max_age_months: int = 0
    """How far before the period the newest release may be before the next one is overdue."""
    fixed_vintage: str | None = None
    """Vintage of a direct file whose date the publisher fixes (Fingertips IMD 2019)."""
    file_name: str | None = None
    """Landed name of a direct file whose URL carries none (an API query)."""
    name: str = ""
    """Report name of a source's second publication (default: the source)."""

    @property
    def key(self) -> str:
        return self.name or self.source

    @property
    def has_releases(self) -> bool:
        return self.slug is not None


# a quarterly or monthly census release, e.g. `30-june-2026` (older: `final-30-september-2019`)
DAY_MONTH_YEAR_SLUG = r"(?:^|-)(?P<day>\d{1,2})-(?P<month>[a-z]+)-(?P<year>\d{4})$"

PUBLICATIONS: dict[str, Publication] = {
    p.key: p
    for p in (
        Publication(
            source="ods_epcn",
            site="ods",
            path="epcn.zip",
            links=(
                LinkSpec("epcn", (r"^epcn\.zip$",), members=r"^epcn\.xlsx$", member_required=True),
            ),
        ),
        Publication(
            source="ods_epraccur",
            site="ods",
            path="epraccur.zip",
            links=(
                LinkSpec(
                    "epraccur",
                    (r"^epraccur\.zip$",),
                    members=r"^epraccur\.csv$",
                    member_required=True,
                ),
            ),
        ),
        # monthly, snapshot on the 1st, published in the same month: `june-2026`
        Publication(
            source="gp_registrations",
            site="digital",
            path="patients-registered-at-a-gp-practice",
            slug=r"(?:^|-)(?P<month>[a-z]+)-(?P<year>\d{4})$",
            max_age_months=0,
            links=(
                LinkSpec(
                    "prac_all",
                    (r"^gp-reg-pat-prac-all\.csv$", r"^gp-reg-pat-prac-all\.zip$"),
                    members=r"\.csv$",
                ),
                LinkSpec(
                    "prac_map",
                    (r"^gp-reg-pat-prac-map\.csv$", r"^gp-reg-pat-prac-map\.zip$"),
                    members=r"\.csv$",
                ),
                LinkSpec(
                    "quin_age",
                    (r"^gp-reg-pat-prac-quin-age\.csv$", r"^gp-reg-pat-prac-quin-age\.zip$"),
                    members=r"\.csv$",
                ),
            ),
        ),
        # quarterly census (`30-june-2026`), published about two months later
        Publication(
            source="pcn_workforce",
            site="digital",
            path="primary-care-network-workforce",
            slug=DAY_MONTH_YEAR_SLUG,
            max_age_months=4,
            links=(
                LinkSpec(
                    "individual",
                    (r"^PCNWFIndividualCSV\.\d{4}(?:\d{2})?\.zip$",),
                    members=r"\.csv$",
                    member_required=True,
                ),
            ),
        ),
        # monthly census (`30-june-2026`, older `final-30-september-2019`), about two months later;
        # the zip was `GPWPracticeCSV.MMYY.zip` in 2019, `.MMYYYY.zip` since
        Publication(
            source="gp_workforce",
            site="digital",
            path="general-and-personal-medical-services",
            slug=DAY_MONTH_YEAR_SLUG,
            max_age_months=2,
            links=(
                LinkSpec(
                    "practice_detailed",
                    (r"^GPWPracticeCSV\.\d{4}(?:\d{2})?\.zip$",),
                    members=r"\.csv$",
                    member_required=True,
                ),
            ),
        ),
        # monthly (`performance-march-2026`), about three months later. The activity and
        # performance CSV is `nhstalkingtherapies_month_mar_2026_activity_performance.csv`; one
        # month (July 2025) was published as `..._activity_final.csv`.
        Publication(
            source="talking_therapies",
            site="digital",
            path="nhs-talking-therapies-monthly-statistics-including-employment-advisors",
            slug=r"^performance-(?P<month>[a-z]+)-(?P<year>\d{4})$",
            max_age_months=3,
            links=(
                LinkSpec(
                    "monthly",
                    (
                        r"^nhstalkingtherapies_month_[a-z]{3,9}_\d{4}_activity_performance\.csv$",
                        r"^nhstalkingtherapies_month_[a-z]{3,9}_\d{4}_activity_final\.csv$",
                    ),
                ),
            ),
        ),
        # annual report (`2024-25`), published about seven months after the year ends. The CSV
        # zip has been `psych-ther-ann-rep-csv-2024-25-2.zip`, `psych-ther-ann-rep-csvs-2023-24
        # .zip`, `psych-ther-ann-2019-20-csvs.zip`; the main measures CSV inside it
        # `psych-ther-ann-rep-csv-2024-25-main2.csv`, `...-2022-23-main-v2.csv`, `...-main-csv.csv`.
        # Vintage: March of the year's end, as for QOF.
        Publication(
            source="talking_therapies",
            name="talking_therapies_annual",
            site="digital",
            path="nhs-talking-therapies-for-anxiety-and-depression-annual-reports",
            slug=r"(?:^|-)(?P<start>\d{4})-(?P<end>\d{2})$",
            vintage_of=_qof_year,
            max_age_months=18,
            links=(
                LinkSpec(
                    "annual",
                    (
                        r"^psych-ther-ann(?:-rep)?-csvs?-\d{4}-\d{2}(?:-\d+)?\.zip$",
                        r"^psych-ther-ann-\d{4}-\d{2}-csvs\.zip$",
                    ),
                    members=r"^psych-ther-ann-rep-csv-\d{4}-\d{2}-main.*\.csv$",
                    member_required=True,
                ),
            ),
        ),
        # annual (`2024-25`, older `2018-19-pas`), published about six months after March. The
        # raw data zip has had many names: `QOF2324.zip`, `QOF 2022-23 Raw data .csv files.zip`,
        # `QOF_2122_V2.zip`, `QOF2021_v2.zip`, `QOF_1920.zip`; it holds PREVALENCE_<yy><yy>.csv.
        Publication(
            source="qof",
            site="digital",
            path="quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data",
            slug=r"(?:^|-)(?P<start>\d{4})-(?P<end>\d{2})(?:-[a-z]+)?$",
            vintage_of=_qof_year,
            max_age_months=17,
            links=(
                LinkSpec(
                    "prevalence",
                    (r"^QOF[ _]?\d{4}(?:-\d{2})?(?:[ _].*)?\.zip$",),
                    members=r"^PREVALENCE_\d{4}(?:_v\d+)?\.csv$",
                    member_required=True,
                ),
            ),
        ),
        Publication(
            source="imd",
            site="fingertips",
            path="all_data/csv/by_indicator_id?indicator_ids=93553",
            fixed_vintage="2019-09",
            file_name="indicator-data.csv",
            links=(LinkSpec("imd2019", (r".*",)),),
        ),
    )
}


# --- limits, results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Bounds on what a publisher (or anything pretending to be one) can make us write."""

    max_download_bytes: int = 2 << 30
    max_page_bytes: int = 20 << 20
    max_unpacked_bytes: int = 8 << 30
    """Total declared (and actually written) size of a zip's members."""
    max_ratio: float = 200.0
    """Uncompressed to compressed size of a member bigger than `ratio_floor_bytes` (CSV ~10:1)."""
    ratio_floor_bytes: int = 1 << 20
    max_members: int = 10_000


@dataclass
class SourceReport:
    name: str
    """The publication: its source's name (`talking_therapies_annual` for the second one)."""
    source: str
    status: str
    vintage: str | None = None
    files: list[str] = field(default_factory=list)
    """Landed (or already landed, unchanged) files, relative to the raw dir."""
    urls: list[str] = field(default_factory=list)
    message: str = ""

    def line(self) -> str:
        detail = self.message or ", ".join(Path(f).name for f in self.files)
        return f"{self.name:24} {self.status:17} {self.vintage or '-':7}  {detail}"


@dataclass
class FetchReport:
    period: str
    raw_dir: Path
    sources: list[SourceReport]

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed

    def get(self, name: str) -> SourceReport:
        """The report of one publication, by its name (the source's name for most)."""
        return next(s for s in self.sources if s.name == name)

    def lines(self) -> list[str]:
        return [s.line() for s in self.sources]


class FetchFailure(Exception):
    """A source could not be fetched: the message names the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class _Retryable(Exception):
    """An I/O error or a 5xx: worth another try."""


# --- HTML ----------------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href.strip())


def _hrefs(html: str, page_url: str) -> list[str]:
    """Absolute http(s) links of a page, in document order, without fragments or repeats."""
    parser = _Links()
    parser.feed(html)
    seen: dict[str, None] = {}
    for href in parser.hrefs:
        url = urljoin(page_url, href).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https"):
            seen.setdefault(url, None)
    return list(seen)


def _file_name(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name)


def find_releases(pub: Publication, html: str, series_url: str) -> list[tuple[str, str]]:
    """(vintage, release page URL) for every release the series page links, newest first."""
    assert pub.slug is not None
    series_path = urlsplit(series_url).path.rstrip("/") + "/"
    found: set[tuple[str, str]] = set()
    for url in _hrefs(html, series_url):
        path = urlsplit(url).path
        if not path.startswith(series_path):
            continue
        slug = path[len(series_path) :].strip("/")
        match = re.search(pub.slug, slug, re.I) if slug and "/" not in slug else None
        vintage = pub.vintage_of(match) if match else None
        if vintage:
            found.add((vintage, url))
    return sorted(found, reverse=True)


def pick_links(pub: Publication, html: str, page_url: str) -> dict[str, str] | None:
    """Each product's file URL on a release page; None when the page offers no files at all
    (an announcement of a release not out yet). Raises FetchFailure for a missing or ambiguous link.
    """
    urls = _hrefs(html, page_url)
    resources = [u for u in urls if RESOURCE_EXT.search(_file_name(u))]
    if not resources:
        return None
    picked: dict[str, str] = {}
    for spec in pub.links:
        for pattern in spec.patterns:
            hits = [u for u in resources if re.search(pattern, _file_name(u), re.I)]
            if len(hits) > 1:
                raise FetchFailure(
                    page_url, f"{len(hits)} different links match {pattern!r}: {', '.join(hits)}"
                )
            if hits:
                picked[spec.product] = hits[0]
                break
        else:
            raise FetchFailure(
                page_url,
                f"no link for {spec.product!r} (file name like {' or '.join(spec.patterns)}) "
                f"among the {len(resources)} files on the release page; the publisher may have "
                "renamed it",
            )
    return picked


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class _Http:
    client: httpx.Client
    retries: int
    backoff: float
    limits: Limits

    def _attempts(self, url: str, action: Callable[[], T]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return action()
            except (httpx.TransportError, _Retryable) as exc:
                reason = _describe(exc)
                if attempt == self.retries:
                    raise FetchFailure(
                        url, f"{reason} (gave up after {self.retries + 1} attempts)"
                    ) from exc
                delay = self.backoff * 2**attempt
                log.warning("%s: %s; retrying in %.1f s", url, reason, delay)
                time.sleep(delay)
            except httpx.HTTPError as exc:  # too many redirects, a body that will not decode
                raise FetchFailure(url, _describe(exc)) from exc
        raise AssertionError("unreachable")

    def _stream(self, url: str, sink: Callable[[bytes], None], limit: int) -> httpx.Headers:
        with self.client.stream("GET", url) as response:
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code} {response.reason_phrase}")
            if response.status_code >= 400:
                # a 4xx will not change on a retry: the URL is wrong or gone
                raise FetchFailure(url, f"HTTP {response.status_code} {response.reason_phrase}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchFailure(url, f"{int(declared):,} bytes is over the {limit:,} limit")
            size = 0
            for chunk in response.iter_bytes(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise FetchFailure(url, f"more than the {limit:,}-byte limit")
                sink(chunk)
            return response.headers

    def page(self, url: str) -> str:
        def get() -> str:
            body = bytearray()
            headers = self._stream(url, body.extend, self.limits.max_page_bytes)
            try:
                return bytes(body).decode(_charset(headers), errors="replace")
            except LookupError:  # a charset Python does not know
                return bytes(body).decode("utf-8", errors="replace")

        return self._attempts(url, get)

    def download(self, url: str, target: Path) -> httpx.Headers:
        def get() -> httpx.Headers:
            with target.open("wb") as fh:  # a retry starts the file again
                return self._stream(url, fh.write, self.limits.max_download_bytes)

        return self._attempts(url, get)


def _charset(headers: httpx.Headers) -> str:
    match = re.search(r"charset=([\w-]+)", headers.get("content-type", ""), re.I)
    return match.group(1) if match else "utf-8"


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection dropped ({exc})"
    if isinstance(exc, httpx.TransportError):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)


# --- checking and unpacking ----------------------------------------------------------------------


def _check_content(path: Path, name: str, url: str) -> None:
    """A zip (or xlsx) must be a zip; a CSV must not be an HTML error page served with 200."""
    with path.open("rb") as fh:
        head = fh.read(512)
    suffix = Path(name).suffix.lower()
    if not head:
        raise FetchFailure(url, f"{name} is empty")
    if suffix in (".zip", ".xlsx", ".xlsm"):
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or not zipfile.is_zipfile(path):
            looks = "an HTML page" if head.lstrip().startswith(b"<") else "not a zip archive"
            raise FetchFailure(url, f"{name} is {looks} (starts {head[:24]!r})")
    elif suffix in (".csv", ".txt"):
        text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if text.startswith(b"<"):
            raise FetchFailure(url, f"{name} is an HTML page, not a CSV (starts {head[:24]!r})")


def _unsafe(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "a '..' path that climbs out of the folder"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    return None


def _extract(
    zip_path: Path, spec: LinkSpec, out_dir: Path, url: str, limits: Limits
) -> list[tuple[Path, zipfile.ZipInfo]]:
    """Check every member, then extract those `spec.members` selects, within the limits."""
    name = zip_path.name
    try:
        with zipfile.ZipFile(zip_path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_members:
                raise FetchFailure(
                    url, f"{name} holds {len(infos):,} members (limit {limits.max_members:,})"
                )
            declared = 0
            for info in infos:
                problem = _unsafe(info)
                if problem:
                    raise FetchFailure(
                        url, f"{name}: member {info.filename!r} is {problem}; refused"
                    )
                declared += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
                    raise FetchFailure(
                        url,
                        f"{name}: member {info.filename!r} expands {ratio:,.0f}:1 "
                        f"({info.file_size:,} bytes; limit {limits.max_ratio:,.0f}:1): a zip bomb?",
                    )
            if declared > limits.max_unpacked_bytes:
                raise FetchFailure(
                    url,
                    f"{name} unpacks to {declared:,} bytes (limit {limits.max_unpacked_bytes:,})",
                )
            if spec.members is None:
                return []
            chosen = [
                i
                for i in infos
                if not i.is_dir() and re.search(spec.members, PurePosixPath(i.filename).name, re.I)
            ]
            if spec.member_required and not chosen:
                raise FetchFailure(url, f"{name} holds no member like {spec.members!r}")
            out_dir.mkdir(exist_ok=True)
            written = 0
            extracted: list[tuple[Path, zipfile.ZipInfo]] = []
            for info in chosen:
                target = out_dir / PurePosixPath(info.filename).name
                if target.exists():
                    raise FetchFailure(url, f"{name} holds two members named {target.name!r}")
                with zf.open(info) as src, target.open("wb") as dst:
                    for block in iter(lambda src=src: src.read(1 << 20), b""):
                        written += len(block)
                        if written > limits.max_unpacked_bytes:  # sizes in the header can lie
                            raise FetchFailure(url, f"{name} unpacks to more than declared")
                        dst.write(block)
                _check_content(target, target.name, f"{url}!{info.filename}")
                extracted.append((target, info))
            return extracted
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
        # corrupt data, a CRC mismatch, an encrypted member or an unknown compression method
        raise FetchFailure(url, f"{name} could not be unpacked: {exc}") from exc


# --- staging and landing -------------------------------------------------------------------------


@dataclass
class _Staged:
    name: str
    path: Path
    origin: str
    extra: dict


def _current_copy(folder: Path, name: str) -> Path | None:
    """The copy of `name` a run would use: the newest revision holding it, else the first landed."""
    revisions = folder / "revisions"
    if revisions.is_dir():
        for rev in sorted((p for p in revisions.iterdir() if p.is_dir()), reverse=True):
            if (rev / name).is_file():
                return rev / name
    return folder / name if (folder / name).is_file() else None


def _land(
    staged: list[_Staged], raw_dir: Path, source: str, vintage: str, landed_at: str | None
) -> tuple[str, list[str]]:
    folder = raw_dir / source / vintage
    outcomes: set[str] = set()
    files: list[str] = []
    for item in staged:
        current = _current_copy(folder, item.name)
        if current is not None and sha256_of(current) == sha256_of(item.path):
            outcomes.add(UNCHANGED)
            files.append(current.relative_to(raw_dir).as_posix())
            continue
        outcomes.add(REVISED if current is not None else LANDED)
        target = land_file(
            item.path,
            raw_dir,
            source,
            vintage,
            origin=item.origin,
            name=item.name,
            landed_at=landed_at,
            extra=item.extra,
        )
        files.append(target.relative_to(raw_dir).as_posix())
    status = next(s for s in (REVISED, LANDED, UNCHANGED) if s in outcomes)
    return status, files


def _zip_vintage(
    members: list[tuple[Path, zipfile.ZipInfo]], headers: httpx.Headers
) -> tuple[str, str]:
    """(vintage, why) of a current-only ODS file: its newest member date, else Last-Modified."""
    dated = [info.date_time for _, info in members if info.date_time[:3] != NO_ZIP_DATE]
    if dated:
        newest = max(dated)
        return f"{newest[0]:04d}-{newest[1]:02d}", "zip entry date {:04d}-{:02d}-{:02d}".format(
            *newest[:3]
        )
    modified = headers.get("last-modified")
    if modified:
        when = parsedate_to_datetime(modified)
        return when.strftime("%Y-%m"), f"HTTP Last-Modified {modified}"
    raise FetchFailure("", "the zip carries no dates and the server no Last-Modified header")


def _months(vintage: str) -> int:
    year, month = vintage.split("-")
    return int(year) * 12 + int(month) - 1


def _month_name(months: int) -> str:
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


@dataclass
class _Plan:
    vintage: str | None
    urls: dict[str, str]
    page: str | None = None
    note: str = ""
    overdue: bool = False


def _plan_series(pub: Publication, period: str, http: _Http, base: str) -> _Plan:
    series_url = urljoin(base, pub.path)
    releases = find_releases(pub, http.page(series_url), series_url)
    if not releases:
        raise FetchFailure(
            series_url, "the series page links no release pages (has the page layout changed?)"
        )
    due = _month_name(_months(period) - pub.max_age_months)
    skipped: list[str] = []
    for vintage, page_url in releases:
        if vintage > period:
            continue
        urls = pick_links(pub, http.page(page_url), page_url)
        if urls is None:  # listed, but its files are not out yet
            skipped.append(vintage)
            continue
        overdue = vintage < due
        notes = [f"{', '.join(skipped)} announced, files not out yet"] if skipped else []
        if overdue:
            notes.insert(0, f"release due by {period} (vintage {due} or later) not published yet")
        return _Plan(vintage, urls, page_url, "; ".join(notes), overdue)
    newest = releases[0][0]
    return _Plan(
        None,
        {},
        note=f"no release on or before {period} is out yet at {series_url} (newest {newest})",
        overdue=True,
    )


def _fetch_one(
    pub: Publication,
    period: str,
    raw_dir: Path,
    http: _Http,
    bases: dict[str, str],
    landed_at: str | None,
) -> SourceReport:
    report = SourceReport(pub.key, pub.source, FAILED)
    base = bases[pub.site]
    try:
        if pub.has_releases:
            plan = _plan_series(pub, period, http, base)
        elif pub.fixed_vintage and pub.fixed_vintage > period:
            plan = _Plan(
                None, {}, note=f"{pub.fixed_vintage} release is after {period}", overdue=True
            )
        else:
            plan = _Plan(pub.fixed_vintage, {pub.links[0].product: urljoin(base, pub.path)})
        if not plan.urls:
            report.status, report.message = NOT_PUBLISHED, plan.note
            return report
        report.urls = sorted(plan.urls.values())
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=raw_dir))
        try:
            staged, vintage, why = _stage(pub, plan, staging, http)
            status, files = _land(staged, raw_dir, pub.source, vintage, landed_at)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        report.vintage, report.files = vintage, files
        notes = [plan.note] if plan.note else []
        if why:
            notes.append(f"vintage from {why}")
            if vintage > period:
                notes.append(f"ODS serves only its current file, newer than {period}")
        if plan.overdue:
            notes.append(f"{vintage} {status}")
        report.status = NOT_PUBLISHED if plan.overdue else status
        report.message = "; ".join(notes)
    except FetchFailure as exc:
        report.status, report.message = FAILED, f"{pub.key}: {exc}"
    except OSError as exc:  # the raw dir, not the publisher: a full disk, a permission
        report.status, report.message = FAILED, f"{pub.key}: {raw_dir}: {exc}"
    return report


def _stage(
    pub: Publication, plan: _Plan, staging: Path, http: _Http
) -> tuple[list[_Staged], str, str]:
    """Download, check and unpack every file of the release; nothing lands before all are good."""
    staged: list[_Staged] = []
    dated_members: list[tuple[Path, zipfile.ZipInfo]] = []
    headers: httpx.Headers | None = None
    for spec in pub.links:
        url = plan.urls[spec.product]
        name = pub.file_name or _file_name(url)
        folder = staging / spec.product
        folder.mkdir()
        path = folder / name
        headers = http.download(url, path)
        _check_content(path, name, url)
        extra = {"release_page": plan.page} if plan.page else {}
        staged.append(_Staged(name, path, url, extra))
        if name.lower().endswith(".zip"):
            members = _extract(path, spec, folder / "members", url, http.limits)
            dated_members.extend(members)
            staged.extend(
                _Staged(p.name, p, f"{name}!{info.filename}", {"extracted_from": name})
                for p, info in members
            )
    names = [s.name for s in staged]
    if len(set(names)) != len(names):
        raise FetchFailure(plan.page or "", f"two files of the release share a name: {names}")
    if plan.vintage:
        return staged, plan.vintage, ""
    try:
        vintage, why = _zip_vintage(dated_members, headers or httpx.Headers())
    except FetchFailure as exc:
        raise FetchFailure(plan.urls[pub.links[0].product], exc.reason) from exc
    for item in staged:
        item.extra["vintage_from"] = why
    return staged, vintage, why


def _bases(base_urls: dict[str, str] | None) -> dict[str, str]:
    bases = dict(DEFAULT_BASE_URLS)
    mirror = os.environ.get(ENV_BASE_URL, "").strip()
    if mirror:
        root = mirror.rstrip("/")
        bases = {k: root + urlsplit(v).path for k, v in bases.items()}
    for key, value in (base_urls or {}).items():
        if key not in bases:
            raise ValueError(f"unknown base URL key {key!r}; expected one of {', '.join(bases)}")
        bases[key] = value
    # urljoin drops the last segment of a base without a trailing slash
    return {k: v if v.endswith("/") else v + "/" for k, v in bases.items()}


def fetch(
    period: str,
    raw_dir: Path,
    sources: list[str] | None = None,
    base_urls: dict[str, str] | None = None,
    *,
    timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 2.0,
    limits: Limits | None = None,
    landed_at: str | None = None,
) -> FetchReport:
    """Fetch each source's newest release on or before `period` (YYYY-MM) into `raw_dir`.

    `base_urls` overrides the publisher bases by key (`digital`, `ods`, `fingertips`); the
    environment variable PCN_BENCHMARK_PUBLISHER_BASE_URL points them all at one mirror root.
    A source that fails is reported (status `failed`, naming the URL and the reason) and the
    others still run; retries (with exponential backoff from `backoff` seconds) cover I/O errors
    and 5xx answers, never 4xx. `landed_at` (ISO) fixes the landing time, for tests.
    """
    if not PERIOD.match(period):
        raise ValueError(f"period {period!r} is not YYYY-MM")
    wanted = list(SOURCES) if sources is None else list(dict.fromkeys(sources))
    unknown = [s for s in wanted if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source {unknown[0]!r}; expected one of {', '.join(SOURCES)}")
    bases = _bases(base_urls)
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    client = httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )
    http = _Http(client, retries, backoff, limits or Limits())
    with client:
        results = [
            _fetch_one(pub, period, raw_dir, http, bases, landed_at)
            for source in wanted
            for pub in PUBLICATIONS.values()
            if pub.source == source
        ]
    return FetchReport(period, raw_dir, results)
