"""Shared helpers for the robustness suite: break a copy of a real fixture file, land it as a
publisher would have served it, and check afterwards that nothing landed or published was lost."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest

from flows.landing import land_file
from flows.sources.base import decode_bytes
from tests.conftest import FIXTURE_LANDING, FIXTURES

# Every product's real fixture file, by a short name used in test ids: (path, vintage).
FILES: dict[str, tuple[Path, str]] = {
    "prac_all": (FIXTURE_LANDING / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv", "2026-03"),
    "prac_map": (FIXTURE_LANDING / "gp_registrations/2026-01/gp-reg-pat-prac-map.csv", "2026-01"),
    "quin_age": (
        FIXTURE_LANDING / "gp_registrations/2026-07/gp-reg-pat-prac-quin-age.csv",
        "2026-07",
    ),
    "pcn_workforce": (
        FIXTURE_LANDING
        / "pcn_workforce/2026-06/1.Primary Care Networks - June 2026 Individual Level.csv",
        "2026-06",
    ),
    "pcn_workforce_cp1252": (
        FIXTURE_LANDING
        / "pcn_workforce/2020-12/4.Primary Care Networks \u2013 December 2020 Individual Level.csv",
        "2020-12",
    ),
    "gp_workforce": (
        FIXTURE_LANDING
        / "gp_workforce/2026-05/1 General Practice \u2013 May 2026 Practice Level - Detailed.csv",
        "2026-05",
    ),
    "qof": (FIXTURE_LANDING / "qof/2025-03/PREVALENCE_2425.csv", "2025-03"),
    "imd": (FIXTURE_LANDING / "imd/2019-09/indicator-data.csv", "2019-09"),
    "tt_annual": (
        FIXTURE_LANDING / "talking_therapies/2025-03/psych-ther-ann-rep-csv-2024-25-main2.csv",
        "2025-03",
    ),
    "tt_monthly": (FIXTURES / "talking_therapies/2025-09.csv", "2025-09"),
    "epraccur": (FIXTURES / "ods_imd/epraccur_2025-05/epraccur.csv", "2025-05"),
    "epcn": (FIXTURE_LANDING / "ods_epcn/2025-01/ePCN.xlsx", "2025-01"),
}
# The monthly Talking Therapies fixture is stored under its month; landed under its published name.
PUBLISHED_NAME = {"tt_monthly": "nhstalkingtherapies_month_sep_2025_activity_performance.csv"}
CSV_FILES = [name for name in FILES if name != "epcn"]
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html lang='en'><head><title>Page not found - NHS England Digital</title>"
    b"</head><body><h1>Sorry, we could not find that page</h1></body></html>\n"
)


def published_copy(name: str, data: bytes | None, folder: Path) -> Path:
    """A copy of the product's real file (or of `data`) under its published name in `folder`."""
    path, _ = FILES[name]
    target = folder / PUBLISHED_NAME.get(name, path.name)
    folder.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes() if data is None else data)
    return target


def read_as_landed(name: str, data: bytes | None, folder: Path):
    """Read a (changed) copy the way the pipeline does: the registry's reader for its name."""
    from flows.sources import identify

    path = published_copy(name, data, folder)
    product = identify(path)
    assert product is not None, path
    return product.read(path, FILES[name][1])


class CsvText:
    """A real CSV's rows, edited as cells, written back in the file's own encoding and line ends."""

    def __init__(self, raw: bytes) -> None:
        self.bom = raw.startswith(b"\xef\xbb\xbf")
        text, self.encoding = decode_bytes(raw, "fixture")
        self.newline = "\r\n" if "\r\n" in text[:4096] else "\n"
        self.rows = list(csv.reader(io.StringIO(text, newline="")))

    @property
    def header(self) -> list[str]:
        return self.rows[0]

    def column(self, published: str) -> int:
        return [h.strip().upper() for h in self.header].index(published.upper())

    def to_bytes(self) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=self.newline).writerows(self.rows)
        encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        return (b"\xef\xbb\xbf" if self.bom else b"") + buffer.getvalue().encode(encoding)


def reland(landing: Path, relative: str, data: bytes) -> Path:
    """Replace a landed file with changed bytes, landed afresh (manifest and all) as if the
    publisher had served them: the pipeline then reads them as a genuine input."""
    old = landing / relative
    source, vintage = old.parent.parent.name, old.parent.name
    shutil.rmtree(old.parent)
    incoming = landing.parent / "incoming" / old.name
    incoming.parent.mkdir(parents=True, exist_ok=True)
    incoming.write_bytes(data)
    return land_file(incoming, landing, source, vintage, origin="robustness test copy")


def snapshot(root: Path) -> dict[str, str]:
    """Every file and link under a folder: content hash, or link target (nothing followed)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "link -> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def published(fixture_build: dict, tmp_path: Path) -> Path:
    """An output root holding a real publication (the fixture run's release, copied): the last
    publication that a failed run must leave exactly as it was."""
    out = tmp_path / "out"
    release = fixture_build["site"].resolve()
    shutil.copytree(release, out / "releases" / release.name, symlinks=True)
    os.symlink(f"releases/{release.name}", out / "site")
    return out


class NothingLost:
    """Snapshots of the landing zone and the publication, compared after a failed run."""

    def __init__(self, landing: Path, out: Path) -> None:
        self.landing, self.out = landing, out
        self.landing_before = snapshot(landing)
        self.site_target = os.readlink(out / "site")
        self.release_before = snapshot((out / "site").resolve())

    def check(self) -> None:
        assert snapshot(self.landing) == self.landing_before, "the landing zone changed"
        assert os.readlink(self.out / "site") == self.site_target, "site was switched"
        assert snapshot((self.out / "site").resolve()) == self.release_before, "release changed"


def run_cli(*args: str):
    """`pcn-benchmark ...` in this process (the session's Prefect API), as a user runs it."""
    from typer.testing import CliRunner

    from flows.cli import app

    return CliRunner().invoke(app, list(args))


def one_line_error(result) -> str:
    """The CLI's failure: exit 1, no traceback on the terminal, and stderr ending in one line
    of reason (after the run's progress lines); returns that line."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("pcn-benchmark: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return errors[0]
