"""ODS epraccur.csv: every GP practice (and other prescribing cost centre) with its status.

Seen (real files Feb 2022, Jan 2023, May 2025, and a 6-row excerpt of the 2025/26 file):
- headerless, 27 quoted fields, LF line ends, plain ASCII; also served inside `epraccur.zip`;
- status coded `A/C/D/P` up to May 2025 (schema_version `letter_status`) and
  `ACTIVE/INACTIVE/DORMANT` in 2025/26 (`word_status`); prescribing setting `4` became `RO76`;
- rows for Wales (region `W00`), the Channel Islands and the Isle of Man (`YAC`..`YAF`, codes such
  as `GUE010` that are not `[A-Z]\\d{5}`) and non-practice settings: kept, flagged by setting.
The file has no header, so fields are picked by the positions the ODS specification gives them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    ICB_CODE,
    PRACTICE_CODE,
    ReaderError,
    ReadResult,
    decode_bytes,
    looks_like_html,
    parse_date,
    read_member_bytes,
)

SOURCE = "ods_epraccur"
WIDTH = 27

# Normalised column -> (1-based field in the ODS specification, what the field holds).
FIELDS: dict[str, tuple[int, str]] = {
    "practice_code": (1, "organisation code"),
    "practice_name": (2, "name"),
    "region_code": (3, "national grouping"),
    "icb_code": (4, "high level health geography"),
    "postcode": (10, "postcode"),
    "open_date": (11, "open date"),
    "close_date": (12, "close date"),
    "raw_status": (13, "status code"),
    "commissioner_code": (15, "commissioner"),
    "prescribing_setting": (26, "prescribing setting"),
}
_DATE_FIELDS = (11, 12, 16, 17)  # open, close, join and left parent dates: for the fallback period

LETTER_STATUS = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}
# INACTIVE is the old `C`: in the 2025/26 excerpt every INACTIVE row, and no other, has a close
# date and a left-parent date, exactly as every `C` row does in the older files.
WORD_STATUS = {"ACTIVE": "active", "INACTIVE": "closed", "DORMANT": "dormant"}
# The two codings do not share a value, so a file may be matched against both.
GP_PRACTICE_SETTINGS = {"4", "RO76"}
_ODS_CODE = r"[A-Z0-9]+"
_VINTAGE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

SCHEMA = pa.schema(
    [
        ("practice_code", pa.string()),
        ("practice_name", pa.string()),
        ("region_code", pa.string()),
        ("icb_code", pa.string()),
        ("postcode", pa.string()),
        ("open_date", pa.date32()),
        ("close_date", pa.date32()),
        ("status", pa.string()),
        ("raw_status", pa.string()),
        ("commissioner_code", pa.string()),
        ("prescribing_setting", pa.string()),
        ("is_gp_practice", pa.bool_()),
    ]
)


def _label(field: int) -> str:
    meaning = next((m for f, m in FIELDS.values() if f == field), "")
    return f"field {field} ({meaning})" if meaning else f"field {field}"


def _rows(text: str, location: str) -> list[tuple[int, list[str]]]:
    """(line number, 27 fields) for each non-blank row; any other width names the row."""
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != WIDTH:
            raise ReaderError(
                location,
                f"row {reader.line_num} has {len(row)} fields, expected {WIDTH} "
                "(epraccur is headerless with 27 quoted fields)",
            )
        rows.append((reader.line_num, row))
    if not rows:
        raise ReaderError(location, "no rows: expected headerless epraccur records")
    return rows


def _coding(statuses: list[tuple[int, str]], location: str) -> tuple[str, dict[str, str]]:
    """Which status coding the file uses; a value from neither, or a mix of both, is an error."""
    letters = [(n, s) for n, s in statuses if s in LETTER_STATUS]
    words = [(n, s) for n, s in statuses if s in WORD_STATUS]
    unknown = [(n, s) for n, s in statuses if s not in LETTER_STATUS and s not in WORD_STATUS]
    if unknown:
        shown = ", ".join(f"row {n}: {s!r}" for n, s in unknown[:5])
        raise ReaderError(
            location,
            f"{_label(13)}: {len(unknown)} value(s) not in A/C/D/P or ACTIVE/INACTIVE/DORMANT "
            f"({shown})",
        )
    if letters and words:
        raise ReaderError(
            location,
            f"{_label(13)} mixes codings: {letters[0][1]!r} on row {letters[0][0]}, "
            f"{words[0][1]!r} on row {words[0][0]}",
        )
    return ("word_status", WORD_STATUS) if words else ("letter_status", LETTER_STATUS)


def _check(rows: list[tuple[int, str]], pattern: str, location: str, field: int) -> None:
    regex = re.compile(pattern)
    bad = [(n, v) for n, v in rows if not regex.fullmatch(v)]
    if bad:
        shown = ", ".join(f"row {n}: {v!r}" for n, v in bad[:5])
        raise ReaderError(
            location, f"{_label(field)}: {len(bad)} value(s) not like {pattern} ({shown})"
        )


def _date(text: str, where: str, label: str) -> date | None:
    """YYYYMMDD, the only form seen, without strptime's cost (64,000 dates a file)."""
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass  # parse_date names the row and field
    return parse_date(text, where, label)


def _period(vintage: str | None, dates: list[date], location: str) -> str:
    """The landing vintage; without one, the newest date in the file (a lower bound only: the
    file carries no extract date, and Feb 2022's newest date is November 2021)."""
    if vintage is not None:
        if not _VINTAGE.fullmatch(vintage):
            raise ReaderError(location, f"vintage {vintage!r} is not YYYY-MM")
        return vintage
    if not dates:
        raise ReaderError(location, "no vintage given and no dates in the file")
    return max(dates).strftime("%Y-%m")


def read(path: Path, vintage: str | None = None) -> ReadResult:
    """Read epraccur.csv, or the ODS epraccur.zip holding it; `vintage` is the landing month."""
    raw, location = read_member_bytes(path, r"^epraccur\.csv$")
    text, _ = decode_bytes(raw, location)
    if looks_like_html(text):
        raise ReaderError(location, "an HTML page (a publisher's error page?), not a CSV file")
    rows = _rows(text, location)

    def field(number: int) -> list[tuple[int, str]]:
        return [(line, row[number - 1].strip()) for line, row in rows]

    schema_version, status_map = _coding(field(13), location)
    codes = field(1)
    _check(codes, _ODS_CODE, location, 1)
    settings = [s for _, s in field(26)]
    is_gp = [s in GP_PRACTICE_SETTINGS for s in settings]
    if not any(is_gp):
        raise ReaderError(location, f"{_label(26)}: no GP practice (setting 4 or RO76) in the file")
    gp_codes = [c for c, gp in zip(codes, is_gp, strict=True) if gp]
    _check(gp_codes, PRACTICE_CODE, location, 1)
    gp_icbs = [i for i, gp in zip(field(4), is_gp, strict=True) if gp]
    _check(gp_icbs, ICB_CODE, location, 4)
    first: dict[str, int] = {}
    for line, code in codes:
        if code in first:  # one row per organisation: a repeat would double a practice downstream
            raise ReaderError(location, f"code {code!r} on rows {first[code]} and {line}")
        first[code] = line

    def dates(number: int) -> list[date | None]:
        return [_date(v, f"{location} row {n}", _label(number)) for n, v in field(number)]

    data: dict[str, list] = {
        name: [v or None for _, v in field(number)]
        for name, (number, _) in FIELDS.items()
        if number not in (11, 12)
    }
    parsed = {number: dates(number) for number in _DATE_FIELDS}
    data["open_date"] = parsed[11]
    data["close_date"] = parsed[12]
    data["status"] = [status_map[s] for s in data["raw_status"]]
    data["is_gp_practice"] = is_gp
    every_date = [d for values in parsed.values() for d in values if d is not None]
    return ReadResult(
        source=SOURCE,
        product="epraccur",
        schema_version=schema_version,
        tables={"practices": pa.table(data, schema=SCHEMA)},
        period=_period(vintage, every_date, location),
        mapped_columns={name: _label(number) for name, (number, _) in FIELDS.items()},
    )
