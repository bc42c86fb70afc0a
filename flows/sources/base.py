"""What every source reader shares: decoding, column mapping by name, clear errors.

A reader turns one raw file (as served, or a member of the publisher's zip) into one or more
normalised tables with snake_case columns. Readers know file formats only: not dbt, not validation,
not rendering.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa


class ReaderError(ValueError):
    """A raw file could not be read as its publication: names the file and what was expected."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


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


def clean_header(value: object) -> str:
    """Header cells carry line breaks, doubled and trailing spaces: fold them."""
    return re.sub(r"\s+", " ", str(value or "")).strip()


def decode_bytes(raw: bytes, path: Path | str) -> tuple[str, str]:
    """Text and its encoding: UTF-8 (with or without a byte-order mark), or cp1252 (up to 2022)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise ReaderError(path, f"not UTF-8 or cp1252 text (byte {exc.start})") from exc


def read_member_bytes(path: Path, member_pattern: str) -> tuple[bytes, str]:
    """Bytes of a plain file, or of the one zip member whose name matches `member_pattern`."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if re.search(member_pattern, Path(n).name, re.I)]
            if len(names) != 1:
                raise ReaderError(
                    path,
                    f"expected one member matching {member_pattern!r}, found {names or 'none'}",
                )
            return zf.read(names[0]), f"{path}!{names[0]}"
    return path.read_bytes(), str(path)


def read_csv_rows(text: str, path: Path | str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a CSV text (CRLF or LF), with the header folded."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ReaderError(path, "empty file: expected a header row") from exc
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    width = len(header)
    for number, row in enumerate(rows, start=2):
        if len(row) != width:
            raise ReaderError(path, f"row {number} has {len(row)} fields, the header has {width}")
    return [clean_header(h) for h in header], rows


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
        raise ReaderError(path, f"missing column(s) {', '.join(missing)}; header was {header}")
    return positions


def mapped_names(header: list[str], positions: dict[str, int]) -> dict[str, str]:
    return {name: header[i] for name, i in positions.items()}


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d%b%Y", "%d-%b-%y", "%d/%m/%Y", "%d-%b-%Y")


def parse_date(value: object, path: Path | str, column: str) -> date | None:
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
    raise ReaderError(path, f"column {column}: {text!r} is not a date in a known format")


def parse_number(value: str, path: Path | str, column: str, row: int) -> float | None:
    """A published number; blank means missing. Anything else names the row and column."""
    text = value.strip()
    if text == "":
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise ReaderError(path, f"row {row}, column {column}: {text!r} is not a number") from exc


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
        if name in numbers:
            columns[name] = [
                parse_number(row[index], location, published, n) for n, row in enumerate(rows, 2)
            ]
        elif name in dates:
            columns[name] = [parse_date(row[index], location, published) for row in rows]
        else:
            columns[name] = [row[index].strip() or None for row in rows]
    return CsvTable(location, header, positions, columns, encoding)
