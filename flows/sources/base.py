"""What every source reader shares: decoding, column mapping by name, clear errors.

A reader turns one raw file (as served, or a member of the publisher's zip) into one or more
normalised tables with snake_case columns. Readers know file formats only: not dbt, not validation,
not rendering.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa


class ReaderError(ValueError):
    """A raw file could not be read as its publication: names the file and what was expected."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path, self.message = str(path), message
        super().__init__(f"{self.path}: {message}")

    def __reduce__(self) -> tuple:
        # rebuilt from both arguments when it crosses a process (flows.processes, render workers)
        return (self.__class__, (self.path, self.message))


@dataclass(frozen=True)
class ColumnSpec:
    """One normalised column, found in the raw header by any of its published names."""

    name: str
    published: tuple[str, ...]
    required: bool = True


@dataclass
class ReadResult:
    """Normalised tables from one raw file, and what the reader saw."""

    source: str
    product: str
    schema_version: str
    tables: dict[str, pa.Table]
    period: str
    mapped_columns: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


# Unicode bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069):
# invisible, they reorder the text around them ("spoofing"); no organisation name needs one.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str | None:
    """A text cell: stripped, bidi controls removed; blank is missing."""
    return BIDI_CONTROLS.sub("", value).strip() or None


def clean_header(value: object) -> str:
    """Header cells carry line breaks, doubled and trailing spaces: fold them."""
    return re.sub(r"\s+", " ", str(value or "")).strip()


# Bounds on what one landed file may make a reader hold in memory. The largest real file read is
# the quin-age CSV (20.5 MB unpacked, Jul 2026); CSV packs about 10:1 (as in flows/fetch.py).
MAX_READ_BYTES = 1 << 30
MAX_ZIP_RATIO = 200.0
ZIP_RATIO_FLOOR_BYTES = 1 << 20

# A well-formed UTF-8 sequence of two to four bytes: never seen in the real cp1252 files, so a
# file holding both these and bytes that are not UTF-8 mixes two encodings.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode_bytes(raw: bytes, path: Path | str) -> tuple[str, str]:
    """Text and its encoding: UTF-8 (with or without a byte-order mark), or cp1252 (up to 2022).

    Anything else is refused by name rather than read as garbage: UTF-16/32 (a spreadsheet's
    "Unicode text" export), binary data, or a file mixing UTF-8 and cp1252 lines."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[:4096].count(b"\x00") > 0:
        raise ReaderError(
            path, "UTF-16/32 text or binary data (NUL bytes): expected UTF-8 or cp1252"
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = _line_of(raw, exc.start + 3)
            raise ReaderError(
                path,
                f"line {line}: byte {exc.start + 3} is not UTF-8, but the file starts with "
                "a UTF-8 byte-order mark (mixed encodings)",
            ) from exc
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if _UTF8_MULTIBYTE.search(raw):
        raise ReaderError(
            path,
            f"line {_line_of(raw, first_bad)}: byte {first_bad} is not UTF-8, but other "
            "lines are UTF-8 (mixed encodings)",
        )
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise ReaderError(
            path, f"line {_line_of(raw, exc.start)}: not UTF-8 or cp1252 text (byte {exc.start})"
        ) from exc


def check_size(path: Path) -> None:
    """A plain file over the limit is refused before it is read."""
    size = path.stat().st_size
    if size > MAX_READ_BYTES:
        raise ReaderError(path, f"{size:,} bytes is over the {MAX_READ_BYTES:,}-byte limit")


def check_member(path: Path | str, info: zipfile.ZipInfo) -> None:
    """A zip member over the limit, or packed like a zip bomb, is refused before it is read."""
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > MAX_READ_BYTES:
        raise ReaderError(
            path,
            f"member {info.filename!r} unpacks to {info.file_size:,} bytes "
            f"(limit {MAX_READ_BYTES:,})",
        )
    if info.file_size > ZIP_RATIO_FLOOR_BYTES and ratio > MAX_ZIP_RATIO:
        raise ReaderError(
            path,
            f"member {info.filename!r} expands {ratio:,.0f}:1 "
            f"(limit {MAX_ZIP_RATIO:,.0f}:1): a zip bomb?",
        )


def looks_like_html(head: bytes | str) -> bool:
    """A publisher's error page saved under a data file's name."""
    if isinstance(head, bytes):
        head = head[:512].decode("latin-1")
    text = head[:512].lstrip("\ufeff \t\r\n").lower()
    return text.startswith(("<!doctype html", "<html", "<head", "<?xml")) or (
        text.startswith("<") and "<html" in text
    )


def read_member_bytes(path: Path, member_pattern: str) -> tuple[bytes, str]:
    """Bytes of a plain file, or of the one zip member whose name matches `member_pattern`."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if re.search(member_pattern, Path(n).name, re.I)]
                if len(names) != 1:
                    raise ReaderError(
                        path,
                        f"expected one member matching {member_pattern!r}, found {names or 'none'}",
                    )
                check_member(path, zf.getinfo(names[0]))
                return zf.read(names[0]), f"{path}!{names[0]}"
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ReaderError(path, f"a damaged zip archive ({exc})") from exc
    check_size(path)
    return path.read_bytes(), str(path)


def read_csv_rows(text: str, path: Path | str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a CSV text (CRLF or LF), with the header folded.

    Row numbers in messages are the file's own lines (blank lines skipped still count)."""
    if looks_like_html(text):
        raise ReaderError(path, "an HTML page (a publisher's error page?), not a CSV file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        numbered = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except StopIteration as exc:
        raise ReaderError(path, "empty file: expected a header row") from exc
    except csv.Error as exc:
        raise ReaderError(path, f"line {reader.line_num}: not valid CSV ({exc})") from exc
    if not numbered:
        raise ReaderError(path, "a header but no data rows (an empty or truncated download?)")
    width = len(header)
    for i, (number, row) in enumerate(numbered):
        if len(row) != width:
            hint = " (is row 1 a title above the header?)" if i == 0 and len(row) > width else ""
            raise ReaderError(
                path, f"row {number} has {len(row)} fields, the header has {width}{hint}"
            )
        if row == header:
            raise ReaderError(path, f"row {number} repeats the header row (two files joined?)")
    return [clean_header(h) for h in header], [row for _, row in numbered]


def map_columns(header: list[str], specs: Iterable[ColumnSpec], path: Path | str) -> dict[str, int]:
    """Position of each normalised column, found by its published names (never by position)."""
    folded = {h.upper(): i for i, h in enumerate(header)}
    positions: dict[str, int] = {}
    missing: list[str] = []
    for spec in specs:
        found = next((folded[p.upper()] for p in spec.published if p.upper() in folded), None)
        if found is None:
            if spec.required:
                missing.append(" or ".join(spec.published))
            continue
        positions[spec.name] = found
    if missing:
        shown = header if len(header) <= 20 else [*header[:20], f"... {len(header)} columns"]
        raise ReaderError(path, f"missing column(s) {', '.join(missing)}; header was {shown}")
    return positions


def mapped_names(header: list[str], positions: dict[str, int]) -> dict[str, str]:
    return {name: header[i] for name, i in positions.items()}


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d%b%Y", "%d-%b-%y", "%d/%m/%Y", "%d-%b-%Y")


def parse_date(value: object, path: Path | str, column: str, row: int | None = None) -> date | None:
    """Every date format the publishers have used: 2026-03-01, 20191001, 01JAN2021, 01-Sep-20 ..."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        value = str(int(value))
    text = str(value).strip()
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.title() if "%b" in fmt else text, fmt).date()
        except ValueError:
            continue
    where = f"row {row}, column {column}" if row is not None else f"column {column}"
    raise ReaderError(path, f"{where}: {text!r} is not a date in a known format")


# A number as the publishers write it: ASCII digits, an optional sign, point and exponent.
# Python's float() would also take 'nan', 'inf', '1_000' and non-ASCII digits: none is a figure.
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def to_float(text: str) -> float | None:
    """The number in a stripped cell, or None when it is not one (or overflows, like 1e999)."""
    if not NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def parse_number(value: str, path: Path | str, column: str, row: int) -> float | None:
    """A published number; blank means missing. Anything else names the row and column."""
    text = value.strip()
    if text == "":
        return None
    number = to_float(text)
    if number is None:
        raise ReaderError(path, f"row {row}, column {column}: {text!r} is not a number")
    return number


def parse_count(value: str, path: Path | str, column: str, row: int) -> float | None:
    """A published count: a whole number, never negative (`95` or `95.0`); blank is missing."""
    number = parse_number(value, path, column, row)
    if number is not None and (number < 0 or number != int(number)):
        raise ReaderError(path, f"row {row}, column {column}: {value.strip()!r} is not a count")
    return number


def check_codes(
    values: Iterable[str | None],
    pattern: str,
    path: Path | str,
    column: str,
    allowed: Callable[[str], bool] = lambda _: False,
) -> None:
    """Codes must match the publisher's format; report the first rows that do not."""
    regex = re.compile(pattern)
    bad = [
        (i + 2, v)
        for i, v in enumerate(values)
        if v is not None and not regex.fullmatch(v) and not allowed(v)
    ]
    if bad:
        shown = ", ".join(f"row {r}: {v!r}" for r, v in bad[:5])
        raise ReaderError(
            path, f"column {column}: {len(bad)} value(s) not like {pattern} ({shown})"
        )


PRACTICE_CODE = r"[A-Z]\d{5}"
PCN_CODE = r"U\d{5}"
SUB_ICB_CODE = r"[0-9A-Z]{3}|[0-9A-Z]{5}"
ICB_CODE = r"Q[A-Z0-9]{2}|[0-9A-Z]{5}"


@dataclass
class CsvTable:
    """Columns of a published CSV picked by name, as Python lists, and what was seen."""

    location: str
    header: list[str]
    positions: dict[str, int]
    columns: dict[str, list]
    encoding: str

    @property
    def mapped(self) -> dict[str, str]:
        return mapped_names(self.header, self.positions)


def read_csv_table(
    path: Path,
    specs: tuple[ColumnSpec, ...],
    *,
    member_pattern: str = r"\.csv$",
    numbers: tuple[str, ...] = (),
    counts: tuple[str, ...] = (),
    dates: tuple[str, ...] = (),
) -> CsvTable:
    """Read a CSV (plain or inside the publisher's zip), map columns by name, type numbers/dates."""
    raw, location = read_member_bytes(path, member_pattern)
    text, encoding = decode_bytes(raw, location)
    header, rows = read_csv_rows(text, location)
    positions = map_columns(header, specs, location)
    columns: dict[str, list] = {}
    for name, index in positions.items():
        published = header[index]
        if name in numbers or name in counts:
            parse = parse_count if name in counts else parse_number
            columns[name] = [
                parse(row[index], location, published, n) for n, row in enumerate(rows, 2)
            ]
        elif name in dates:
            columns[name] = [
                parse_date(row[index], location, published, n) for n, row in enumerate(rows, 2)
            ]
        else:
            columns[name] = [clean_text(row[index]) for row in rows]
    return CsvTable(location, header, positions, columns, encoding)
