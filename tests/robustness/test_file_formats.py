"""Broken and oddly saved copies of every real fixture file, read as the pipeline reads them.

Each case ends either in the same tables as the original file (a harmless difference in how the
file was saved) or in a ReaderError whose one line names the file and, where there is one, the
row or line. Fetch faults (zip slip, absolute paths, symlinks in zips, zip bombs and oversized
downloads from a publisher) are covered by tests/integration/test_fetch.py."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from flows.sources import base
from flows.sources.base import ReaderError
from tests.robustness.conftest import (
    CSV_FILES,
    FILES,
    HTML_ERROR_PAGE,
    read_as_landed,
)

pytestmark = pytest.mark.unit


def original(name: str) -> bytes:
    return FILES[name][0].read_bytes()


def same_tables(name: str, data: bytes, tmp_path: Path) -> None:
    expected = read_as_landed(name, None, tmp_path / "original")
    got = read_as_landed(name, data, tmp_path / "changed")
    assert got.tables.keys() == expected.tables.keys()
    for table, rows in expected.tables.items():
        assert got.tables[table].equals(rows), f"{name}: table {table} differs"
    assert got.period == expected.period


def refused(name: str, data: bytes, tmp_path: Path, *words: str) -> str:
    """The reader's error: one line, naming the landed file, with the expected words."""
    with pytest.raises(ReaderError) as caught:
        read_as_landed(name, data, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    landed_name = next(tmp_path.iterdir()).name
    assert landed_name in message, message
    for word in words:
        assert word in message, message
    return message


# --- saved differently: the same tables ---------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in CSV_FILES if n != "pcn_workforce_cp1252"])
def test_a_byte_order_mark_added_or_removed_reads_the_same(name: str, tmp_path: Path):
    raw = original(name)
    changed = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + raw
    same_tables(name, changed, tmp_path)


@pytest.mark.parametrize("name", CSV_FILES)
def test_crlf_and_lf_line_ends_read_the_same(name: str, tmp_path: Path):
    raw = original(name)
    changed = raw.replace(b"\r\n", b"\n") if b"\r\n" in raw else raw.replace(b"\n", b"\r\n")
    same_tables(name, changed, tmp_path)


def test_a_cp1252_file_saved_again_as_utf8_reads_the_same(tmp_path: Path):
    raw = original("pcn_workforce_cp1252")
    assert b"\x96" in raw  # the en dash of 'Clinical Director \u2013 Medical'
    same_tables("pcn_workforce_cp1252", raw.decode("cp1252").encode("utf-8"), tmp_path)


# --- broken: refused with the file, row or line named ---------------------------------------------


@pytest.mark.parametrize("name", CSV_FILES)
def test_an_empty_file_is_refused(name: str, tmp_path: Path):
    refused(name, b"", tmp_path)


@pytest.mark.parametrize("name", [n for n in CSV_FILES if n != "epraccur"])  # headerless
def test_a_header_with_no_rows_is_refused(name: str, tmp_path: Path):
    header = original(name).splitlines(keepends=True)[0]
    refused(name, header, tmp_path, "no data rows")


@pytest.mark.parametrize("name", CSV_FILES)
def test_a_csv_truncated_mid_row_names_the_row(name: str, tmp_path: Path):
    raw = original(name).rstrip(b"\r\n")
    last_line = raw.rsplit(b"\n", 1)[1]
    cut = raw[: len(raw) - len(last_line) + len(last_line) // 3]  # a third of the last row
    rows = raw.count(b"\n") + 1
    refused(name, cut, tmp_path, f"row {rows} has")


@pytest.mark.parametrize("name", CSV_FILES)
def test_utf16_text_is_refused_by_name(name: str, tmp_path: Path):
    text = original(name).decode("utf-8-sig" if name != "pcn_workforce_cp1252" else "cp1252")
    refused(name, text.encode("utf-16"), tmp_path, "UTF-16")


@pytest.mark.parametrize("name", ["pcn_workforce", "gp_workforce"])  # UTF-8 with a BOM
def test_a_cp1252_line_in_a_utf8_file_names_its_line(name: str, tmp_path: Path):
    lines = original(name).splitlines(keepends=True)
    lines[5] = lines[5].replace(b",", b",\x96", 1)  # an en dash saved by another program
    refused(name, b"".join(lines), tmp_path, "line 6", "mixed encodings")


def test_a_utf8_byte_order_mark_on_a_cp1252_file_is_refused(tmp_path: Path):
    data = b"\xef\xbb\xbf" + original("pcn_workforce_cp1252")
    refused("pcn_workforce_cp1252", data, tmp_path, "byte-order mark", "mixed encodings")


def test_a_utf8_line_in_a_cp1252_file_is_refused(tmp_path: Path):
    lines = original("pcn_workforce_cp1252").splitlines(keepends=True)
    lines[3] = lines[3].replace(b",", ",\u2013".encode(), 1)
    refused("pcn_workforce_cp1252", b"".join(lines), tmp_path, "mixed encodings")


@pytest.mark.parametrize("name", [n for n in CSV_FILES if n != "epraccur"])
def test_an_extra_title_row_above_the_header_is_refused(name: str, tmp_path: Path):
    data = b"Published by NHS England, 12 March 2026\r\n" + original(name)
    if name == "quin_age":  # streamed: the header is mapped before any row is read
        refused(name, data, tmp_path, "missing column(s)", "header was ['Published by")
    else:
        refused(name, data, tmp_path, "row 2 has", "is row 1 a title above the header?")


@pytest.mark.parametrize("name", [n for n in CSV_FILES if n != "epraccur"])
def test_the_header_repeated_as_a_data_row_names_the_row(name: str, tmp_path: Path):
    lines = original(name).splitlines(keepends=True)
    header = lines[0].removeprefix(b"\xef\xbb\xbf")
    refused(name, b"".join([lines[0], lines[1], header, *lines[2:]]), tmp_path, "row 3")


@pytest.mark.parametrize("name", CSV_FILES)
def test_an_html_error_page_under_the_csv_name_is_refused(name: str, tmp_path: Path):
    refused(name, HTML_ERROR_PAGE, tmp_path, "HTML page")


def test_an_xlsx_that_is_really_an_html_page_is_refused(tmp_path: Path):
    refused("epcn", HTML_ERROR_PAGE, tmp_path, "HTML page", "not an xlsx")


def test_an_empty_or_cut_xlsx_is_refused(tmp_path: Path):
    refused("epcn", b"", tmp_path / "empty", "not a readable xlsx")
    raw = original("epcn")
    refused("epcn", raw[: len(raw) // 2], tmp_path / "cut", "not a readable xlsx")


# duplicated last data row: what each publication says about a repeated record
DUPLICATE_OUTCOMES = {
    "prac_map": "is mapped again",
    "quin_age": "repeats row",
    "qof": "repeats row",
    "imd": "on rows",
    "gp_workforce": "PRAC_CODE repeated",
}


@pytest.mark.parametrize("name", DUPLICATE_OUTCOMES)
def test_a_duplicated_row_is_refused_where_one_row_per_key_is_the_rule(name: str, tmp_path: Path):
    lines = original(name).rstrip(b"\r\n").splitlines(keepends=True)
    newline = b"\r\n" if lines[0].endswith(b"\r\n") else b"\n"
    data = b"".join(lines) + newline + lines[-1].rstrip(b"\r\n") + newline
    refused(name, data, tmp_path, DUPLICATE_OUTCOMES[name])


def test_a_duplicated_workforce_record_is_kept_as_published(tmp_path: Path):
    """Byte-identical records occur in the real files (contracted services): both are kept."""
    raw = original("pcn_workforce")
    last = raw.rstrip(b"\r\n").rsplit(b"\r\n", 1)[1]
    data = raw + last + b"\r\n"
    before = read_as_landed("pcn_workforce", None, tmp_path / "a").tables["staff_records"]
    after = read_as_landed("pcn_workforce", data, tmp_path / "b").tables["staff_records"]
    assert after.num_rows == before.num_rows + 1
    assert after.slice(0, before.num_rows).equals(before)


# --- size limits and damaged archives in the landing zone -------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    raw = original("qof")
    monkeypatch.setattr(base, "MAX_READ_BYTES", len(raw) - 1)
    refused("qof", raw, tmp_path, f"over the {len(raw) - 1:,}-byte limit")
    monkeypatch.setattr(base, "MAX_READ_BYTES", len(raw))
    read_as_landed("qof", raw, tmp_path / "at-limit")  # at the limit: read


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buffer.getvalue()


def read_zip(data: bytes, tmp_path: Path):
    """A prac-all zip landed under the publisher's zip name (the reader opens the member)."""
    from flows.sources import gp_registrations

    path = tmp_path / "gp-reg-pat-prac-all.zip"
    path.write_bytes(data)
    return gp_registrations.read_prac_all(path)


def test_a_zip_bomb_in_the_landing_zone_is_refused_unopened(tmp_path: Path):
    header = original("prac_all").splitlines(keepends=True)[0]
    bomb = zipped("gp-reg-pat-prac-all.csv", header + bytes(50 << 20))  # 50 MB of NULs
    assert len(bomb) < 100_000
    with pytest.raises(ReaderError, match=r"gp-reg-pat-prac-all\.zip.*a zip bomb\?"):
        read_zip(bomb, tmp_path)


def test_the_real_file_zipped_reads_the_same(tmp_path: Path):
    from flows.sources import gp_registrations

    plain = gp_registrations.read_prac_all(FILES["prac_all"][0])
    got = read_zip(zipped("gp-reg-pat-prac-all.csv", original("prac_all")), tmp_path)
    assert got.tables["list_sizes"].equals(plain.tables["list_sizes"])


def test_a_damaged_zip_member_is_refused_by_name(tmp_path: Path):
    data = bytearray(zipped("gp-reg-pat-prac-all.csv", original("prac_all")))
    middle = len(data) // 2
    data[middle : middle + 40] = bytes(40)  # damage the compressed stream, keep the directory
    with pytest.raises(ReaderError, match=r"gp-reg-pat-prac-all\.zip: a damaged zip"):
        read_zip(bytes(data), tmp_path)


def test_the_size_checks_accept_every_real_fixture_file(tmp_path: Path):
    """The limits refuse nothing real (the largest real file, quin-age, is 20.5 MB unpacked)."""
    for name in FILES:
        result = read_as_landed(name, None, tmp_path / name)
        assert all(isinstance(t, pa.Table) for t in result.tables.values())
