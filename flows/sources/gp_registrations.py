"""Patients Registered at a GP Practice: `gp-reg-pat-prac-all` (list sizes), `-map` (practice to
PCN, sub-ICB and ICB) and `-quin-age` (5-year age bands by sex).

Vintages read (all checked on the real files):
- prac-all, CCG era (Jan 2021): `CCG_CODE, ONS_CCG_CODE`, EXTRACT_DATE `01JAN2021`, CRLF;
- prac-all, sub-ICB era (Apr 2025 zip, Oct 2025, Mar 2026): `SUB_ICB_LOCATION_CODE,
  ONS_SUB_ICB_LOCATION_CODE`, EXTRACT_DATE `2025-10-01`, CRLF inside the zip, LF in the plain CSVs.
  Some copies are renamed (`PracPopOct.csv`): the period comes from EXTRACT_DATE, never the name;
- prac-map, CCG era (Sep 2020, Jan 2022): `CCG_CODE, CCG_NAME, STP_CODE, STP_NAME` (plus the ONS
  codes), EXTRACT_DATE `01-Sep-20` / `01Jan2022`; CCG codes are 3 or 5 characters (`D2P2L`);
- prac-map, sub-ICB era (Jan 2026): `SUB_ICB_LOCATION_*`, `ICB_*`, adds `SUPPLIER_NAME`
  (missing for older vintages), EXTRACT_DATE `01Jan2026`;
- quin-age (Jul 2026 zip): one row per organisation x sex x age band, `ORG_TYPE` GP, PCN,
  SUB_ICB_LOCATION_CODE, ICB, Comm Region. Only the GP (practice) rows are kept: the pipeline
  aggregates practices to PCNs itself, so the publisher's own PCN/sub-ICB/ICB/region rows would
  only duplicate them. The `ALL` sex and `ALL` age rows are the publisher's subtotals and are
  kept as published (filter on them, never sum them with the bands).
Practices outside a PCN carry PCN_CODE `U` (name `Unallocated`) in the map.
schema_version is `ccg` or `sub_icb`, from the header (prac-all, prac-map) or the org types seen.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

import pyarrow as pa

from flows.sources.base import (
    ICB_CODE,
    PCN_CODE,
    PRACTICE_CODE,
    SUB_ICB_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    check_member,
    check_size,
    clean_header,
    decode_bytes,
    looks_like_html,
    map_columns,
    mapped_names,
    parse_count,
    parse_date,
    read_csv_table,
)

SOURCE = "gp_registrations"
REGION_CODE = r"Y\d{2}"

PRAC_ALL_COLUMNS = (
    ColumnSpec("extract_date", ("EXTRACT_DATE",)),
    ColumnSpec("org_type", ("TYPE",)),
    ColumnSpec("sub_icb_code", ("SUB_ICB_LOCATION_CODE", "CCG_CODE")),
    ColumnSpec("practice_code", ("CODE",)),
    ColumnSpec("sex", ("SEX",)),
    ColumnSpec("age", ("AGE",)),
    ColumnSpec("registered_patients", ("NUMBER_OF_PATIENTS",)),
)
PRAC_MAP_COLUMNS = (
    ColumnSpec("extract_date", ("EXTRACT_DATE",)),
    ColumnSpec("practice_code", ("PRACTICE_CODE",)),
    ColumnSpec("practice_name", ("PRACTICE_NAME",)),
    ColumnSpec("pcn_code", ("PCN_CODE",)),
    ColumnSpec("pcn_name", ("PCN_NAME",)),
    ColumnSpec("sub_icb_code", ("SUB_ICB_LOCATION_CODE", "CCG_CODE")),
    ColumnSpec("sub_icb_name", ("SUB_ICB_LOCATION_NAME", "CCG_NAME")),
    ColumnSpec("icb_code", ("ICB_CODE", "STP_CODE")),
    ColumnSpec("icb_name", ("ICB_NAME", "STP_NAME")),
    ColumnSpec("region_code", ("COMM_REGION_CODE",)),
    ColumnSpec("region_name", ("COMM_REGION_NAME",)),
    # Published from the sub-ICB era only (Jan 2026 here); missing before.
    ColumnSpec("supplier_name", ("SUPPLIER_NAME",), required=False),
)
QUIN_AGE_COLUMNS = (
    ColumnSpec("extract_date", ("EXTRACT_DATE",)),
    ColumnSpec("org_type", ("ORG_TYPE",)),
    ColumnSpec("org_code", ("ORG_CODE",)),
    ColumnSpec("sex", ("SEX",)),
    ColumnSpec("age_group", ("AGE_GROUP_5",)),
    ColumnSpec("registered_patients", ("NUMBER_OF_PATIENTS",)),
)
LIST_SIZES_SCHEMA = pa.schema(
    [
        ("extract_date", pa.date32()),
        ("sub_icb_code", pa.string()),
        ("practice_code", pa.string()),
        ("registered_patients", pa.float64()),
    ]
)
PRAC_MAP_SCHEMA = pa.schema(
    [("extract_date", pa.date32())]
    + [(spec.name, pa.string()) for spec in PRAC_MAP_COLUMNS if spec.name != "extract_date"]
)
QUIN_AGE_SCHEMA = pa.schema(
    [
        ("extract_date", pa.date32()),
        ("org_type", pa.string()),
        ("org_code", pa.string()),
        ("sex", pa.string()),
        ("age_group", pa.string()),
        ("registered_patients", pa.int64()),
    ]
)
# The publisher's age bands: 0_4 ... 90_94, 95+, and ALL (the subtotal).
AGE_GROUP = re.compile(r"\d{1,2}_\d{1,2}|\d{1,3}\+|ALL")


def _schema_version(header: list[str]) -> str:
    return "ccg" if "CCG_CODE" in (h.upper() for h in header) else "sub_icb"


def _one_date(dates: set[date | None], location: str) -> date:
    """The one extract date of a file (a blank or a second date is an error)."""
    found = [d for d in dates if d is not None]
    if len(found) != 1 or len(dates) != 1:
        shown = sorted(str(d) for d in dates)
        raise ReaderError(location, f"EXTRACT_DATE is not one date: {shown}")
    return found[0]


def read_prac_all(path: Path) -> ReadResult:
    table = read_csv_table(
        path,
        PRAC_ALL_COLUMNS,
        member_pattern=r"gp-reg-pat-prac-all.*\.csv$",
        counts=("registered_patients",),
        dates=("extract_date",),
    )
    cols = table.columns
    keep = [
        i
        for i in range(len(cols["practice_code"]))
        if cols["sex"][i] == "ALL" and cols["age"][i] == "ALL"
    ]
    if not keep:
        raise ReaderError(table.location, "no rows with SEX=ALL and AGE=ALL")
    check_codes(cols["practice_code"], PRACTICE_CODE, table.location, "CODE")
    sub_icb_column = table.mapped["sub_icb_code"]
    check_codes(cols["sub_icb_code"], SUB_ICB_CODE, table.location, sub_icb_column)
    extract_date = _one_date({cols["extract_date"][i] for i in keep}, table.location)
    data = {
        "extract_date": [cols["extract_date"][i] for i in keep],
        "sub_icb_code": [cols["sub_icb_code"][i] for i in keep],
        "practice_code": [cols["practice_code"][i] for i in keep],
        "registered_patients": [cols["registered_patients"][i] for i in keep],
    }
    schema = LIST_SIZES_SCHEMA
    return ReadResult(
        source=SOURCE,
        product="prac_all",
        schema_version=_schema_version(table.header),
        tables={"list_sizes": pa.table(data, schema=schema)},
        period=extract_date.strftime("%Y-%m"),
        mapped_columns=table.mapped,
    )


def read_prac_map(path: Path) -> ReadResult:
    table = read_csv_table(
        path,
        PRAC_MAP_COLUMNS,
        member_pattern=r"gp-reg-pat-prac-map.*\.csv$",
        dates=("extract_date",),
    )
    cols = table.columns
    where = table.location
    mapped = table.mapped
    check_codes(cols["practice_code"], PRACTICE_CODE, where, "PRACTICE_CODE")
    check_codes(cols["pcn_code"], PCN_CODE, where, "PCN_CODE", allowed=lambda v: v == "U")
    check_codes(cols["sub_icb_code"], SUB_ICB_CODE, where, mapped["sub_icb_code"])
    check_codes(cols["icb_code"], ICB_CODE, where, mapped["icb_code"])
    check_codes(cols["region_code"], REGION_CODE, where, "COMM_REGION_CODE")
    extract_date = _one_date(set(cols["extract_date"]), where)
    first: dict[str, int] = {}
    for row, (code, pcn) in enumerate(zip(cols["practice_code"], cols["pcn_code"], strict=True), 2):
        if code in first:  # one PCN per practice: a second row would put it in two PCNs at once
            earlier = cols["pcn_code"][first[code] - 2]
            raise ReaderError(
                where,
                f"row {row}: practice {code} is mapped again (PCN {pcn}; row {first[code]}: PCN "
                f"{earlier}): expected one row per practice",
            )
        first[code] = row
    n = len(cols["practice_code"])
    data = {name: cols.get(name, [None] * n) for name in PRAC_MAP_SCHEMA.names}
    return ReadResult(
        source=SOURCE,
        product="prac_map",
        schema_version=_schema_version(table.header),
        tables={"practice_mappings": pa.table(data, schema=PRAC_MAP_SCHEMA)},
        period=extract_date.strftime("%Y-%m"),
        mapped_columns=mapped,
    )


@contextmanager
def _open_text(path: Path, member_pattern: str, encoding: str) -> Iterator[tuple[TextIO, str]]:
    """A text stream over a plain CSV or the one matching zip member (never read whole),
    after the same size, encoding and error-page checks as every other reader."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if re.search(member_pattern, Path(n).name, re.I)]
                if len(names) != 1:
                    wanted = f"expected one member matching {member_pattern!r}"
                    raise ReaderError(path, f"{wanted}, found {names or 'none'}")
                location = f"{path}!{names[0]}"
                check_member(path, zf.getinfo(names[0]))
                with zf.open(names[0]) as raw:
                    _check_head(raw.peek(4096)[:4096], location)
                    yield io.TextIOWrapper(raw, encoding=encoding, newline=""), location
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ReaderError(path, f"a damaged zip archive ({exc})") from exc
    else:
        check_size(path)
        with path.open("rb") as raw:
            _check_head(raw.read(4096), str(path))
        with path.open(encoding=encoding, newline="") as text:
            yield text, str(path)


def _check_head(head: bytes, location: str) -> None:
    if looks_like_html(head):
        raise ReaderError(location, "an HTML page (a publisher's error page?), not a CSV file")
    decode_bytes(head[: head.rfind(b"\n") + 1] or head[:0], location)  # UTF-16, NUL bytes


def _patients(value: str, location: str, row: int) -> int | None:
    """A count as published: `123`, blank (missing) or a whole decimal `123.0`; never negative."""
    number = parse_count(value, location, "NUMBER_OF_PATIENTS", row)
    return None if number is None else int(number)


@dataclass
class _GpRows:
    """What one pass over a quin-age CSV kept: the GP rows, and every org type counted."""

    location: str
    header: list[str]
    positions: dict[str, int]
    dates: dict[str, date | None] = field(default_factory=dict)
    org_types: dict[str, int] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)
    sexes: list[str] = field(default_factory=list)
    ages: list[str] = field(default_factory=list)
    counts: list[int | None] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _read_gp_rows(path: Path, encoding: str) -> _GpRows:
    """Stream the CSV once, keeping the GP rows; csv module only (326,241 rows in Jul 2026)."""
    with _open_text(path, r"gp-reg-pat-prac-quin-age.*\.csv$", encoding) as (text, location):
        reader = csv.reader(text)
        try:
            header = [clean_header(h) for h in next(reader)]
        except StopIteration as exc:
            raise ReaderError(location, "empty file: expected a header row") from exc
        positions = map_columns(header, QUIN_AGE_COLUMNS, location)
        i_date, i_type, i_code, i_sex, i_age, i_n = (
            positions[spec.name] for spec in QUIN_AGE_COLUMNS
        )
        seen = _GpRows(location, header, positions)
        width = len(header)
        org_types = seen.org_types
        # Bound methods and locals: this loop runs 326,241 times on the Jul 2026 file.
        add_code, add_sex, add_age = seen.codes.append, seen.sexes.append, seen.ages.append
        add_count, add_row, dates = seen.counts.append, seen.rows.append, seen.dates
        for number, row in enumerate(reader, start=2):
            if len(row) != width:
                if not any(cell.strip() for cell in row):
                    continue
                raise ReaderError(
                    location, f"row {number} has {len(row)} fields, the header has {width}"
                )
            org_type = row[i_type]
            if org_type != "GP":
                if [clean_header(c) for c in row] == header:
                    raise ReaderError(
                        location, f"row {number} repeats the header row (two files joined?)"
                    )
                org_types[org_type] = org_types.get(org_type, 0) + 1
                continue
            raw_date = row[i_date]
            if raw_date not in dates:
                dates[raw_date] = parse_date(raw_date, location, header[i_date])
            add_code(row[i_code])
            add_sex(row[i_sex])
            add_age(row[i_age])
            count = row[i_n]
            # the fast path takes plain ASCII digits only: int() would also take '-5', ' 5',
            # '1_000' and non-ASCII digits
            if count.isdigit() and count.isascii():
                add_count(int(count))
            else:
                add_count(_patients(count, location, number))
            add_row(number)
        org_types["GP"] = len(seen.codes)
    return seen


def read_quin_age(path: Path) -> ReadResult:
    """Practice (ORG_TYPE GP) registrations by sex and 5-year age band; other org types dropped."""
    try:
        seen = _read_gp_rows(path, "utf-8-sig")
    except UnicodeDecodeError:
        seen = _read_gp_rows(path, "cp1252")
    location = seen.location
    if not seen.codes and not seen.org_types.keys() - {"GP"}:
        raise ReaderError(location, "a header but no data rows (an empty or truncated download?)")
    if not seen.codes:
        raise ReaderError(location, f"no ORG_TYPE GP rows; org types were {sorted(seen.org_types)}")
    practice = re.compile(PRACTICE_CODE)
    # Check each distinct value once (about 6,000 codes and 21 bands), then find its first row.
    bad_codes = {c for c in set(seen.codes) if not practice.fullmatch(c)}
    bad = next((i for i, c in enumerate(seen.codes) if c in bad_codes), None) if bad_codes else None
    if bad is not None:
        raise ReaderError(
            location,
            f"row {seen.rows[bad]}, column ORG_CODE: {seen.codes[bad]!r} is not a practice code "
            f"like {PRACTICE_CODE}",
        )
    bad_ages = {a for a in set(seen.ages) if not AGE_GROUP.fullmatch(a)}
    bad = next((i for i, a in enumerate(seen.ages) if a in bad_ages), None) if bad_ages else None
    if bad is not None:
        raise ReaderError(
            location,
            f"row {seen.rows[bad]}, column AGE_GROUP_5: {seen.ages[bad]!r} is not an age band "
            "like 0_4, 95+ or ALL",
        )
    first: dict[tuple[str, str, str], int] = {}
    for key in zip(seen.codes, seen.sexes, seen.ages, strict=True):
        if key in first:
            row = seen.rows[len(first)]
            raise ReaderError(
                location,
                f"row {row}: practice {key[0]} sex {key[1]} age {key[2]} repeats row "
                f"{seen.rows[first[key]]}: expected one row each",
            )
        first[key] = len(first)
    extract_date = _one_date(set(seen.dates.values()), location)
    n = len(seen.codes)
    data = {
        "extract_date": pa.array([extract_date] * n, pa.date32()),
        "org_type": pa.array(["GP"] * n, pa.string()),
        "org_code": pa.array(seen.codes, pa.string()),
        "sex": pa.array(seen.sexes, pa.string()),
        "age_group": pa.array(seen.ages, pa.string()),
        "registered_patients": pa.array(seen.counts, pa.int64()),
    }
    return ReadResult(
        source=SOURCE,
        product="quin_age",
        schema_version="sub_icb" if "SUB_ICB_LOCATION_CODE" in seen.org_types else "ccg",
        tables={"age_bands": pa.table(data, schema=QUIN_AGE_SCHEMA)},
        period=extract_date.strftime("%Y-%m"),
        mapped_columns=mapped_names(seen.header, seen.positions),
    )
