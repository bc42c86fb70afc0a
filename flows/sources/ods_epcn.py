"""ODS ePCN.xlsx: PCNs (open/close dates) and practice-to-PCN relationship spells.

Seen (real files Dec 2019, Apr 2022, Jan 2023, Jan 2025, and the Apr 2022 `epcn.zip`):
- sheet `PCN Details` (2019) or `PCNDetails` (2022 on), and `PCN Core Partner Details`;
- CCG-era header names (2019, 2022: schema_version `ccg`) and sub-ICB-era names (2023 on:
  `sub_icb`); header cells with line breaks and trailing spaces from 2022;
- dates as integers (2019) or `YYYYMMDD` text; blank (empty or '') for an open PCN or a current
  spell;
- in 2019 the partner sheet's PCN Name and match columns are Excel formulas: never read;
- the ODS `epcn.zip` wraps `ePCN.xlsx` and a specification PDF.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pyarrow as pa

from flows.sources.base import (
    MAX_READ_BYTES,
    PCN_CODE,
    PRACTICE_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_member,
    check_size,
    clean_header,
    clean_text,
    looks_like_html,
    map_columns,
    mapped_names,
    parse_date,
)

SOURCE = "ods_epcn"

PCN_SHEETS = ("PCNDetails", "PCN Details")
PARTNER_SHEETS = ("PCN Core Partner Details",)

PCN_COLUMNS = (
    ColumnSpec("pcn_code", ("PCN Code",)),
    ColumnSpec("pcn_name", ("PCN Name",)),
    ColumnSpec(
        "sub_icb_code",
        ("Current Sub ICB Loc Code", "Current Clinical Commissioning Group Code"),
    ),
    ColumnSpec("open_date", ("Open Date", "Open Date (YYYYMMDD)")),
    ColumnSpec("close_date", ("Close Date",)),
)
RELATIONSHIP_COLUMNS = (
    ColumnSpec("practice_code", ("Partner Organisation Code",)),
    ColumnSpec("practice_name", ("Partner Name",)),
    ColumnSpec(
        "practice_sub_icb_code", ("Practice Parent Sub ICB Loc Code", "Practice Parent CCG Code")
    ),
    ColumnSpec("pcn_code", ("PCN Code",)),
    ColumnSpec("pcn_sub_icb_code", ("PCN Parent Sub ICB Loc Code", "PCN Parent CCG Code")),
    ColumnSpec("start_date", ("Practice to PCN Relationship Start Date",)),
    ColumnSpec("end_date", ("Practice to PCN Relationship End Date",)),
)
# The geography columns say which era a file belongs to; all three must agree.
_CCG_HEADERS = {
    "CURRENT CLINICAL COMMISSIONING GROUP CODE",
    "PRACTICE PARENT CCG CODE",
    "PCN PARENT CCG CODE",
}
_GEOGRAPHY = (
    ("pcns", "sub_icb_code"),
    ("relationships", "practice_sub_icb_code"),
    ("relationships", "pcn_sub_icb_code"),
)
_VINTAGE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _text(value: object) -> str | None:
    if value is None:
        return None
    return clean_text(str(value))


def _open_workbook(path: Path) -> openpyxl.Workbook:
    check_size(path)
    data = path.read_bytes()
    if looks_like_html(data):
        raise ReaderError(path, "an HTML page (a publisher's error page?), not an xlsx workbook")
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "[Content_Types].xml" not in zf.namelist():  # the ODS epcn.zip wraps the xlsx
                members = [n for n in zf.namelist() if n.lower().endswith("epcn.xlsx")]
                if len(members) != 1:
                    raise ReaderError(path, f"expected one ePCN.xlsx inside, found {zf.namelist()}")
                check_member(path, zf.getinfo(members[0]))
                data = zf.read(members[0])
        with zipfile.ZipFile(io.BytesIO(data)) as workbook:
            # the workbook's own parts: a sheet that unpacks past the limit is a zip bomb
            unpacked = sum(info.file_size for info in workbook.infolist())
            if unpacked > MAX_READ_BYTES:
                raise ReaderError(
                    path, f"the workbook unpacks to {unpacked:,} bytes (limit {MAX_READ_BYTES:,})"
                )
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not xlsx
        raise ReaderError(path, f"not a readable xlsx workbook ({exc.__class__.__name__})") from exc


def _sheet(wb: openpyxl.Workbook, names: tuple[str, ...], path: Path) -> tuple[str, list[tuple]]:
    for name in names:
        if name in wb.sheetnames:
            rows = list(wb[name].iter_rows(values_only=True))
            if not rows:
                raise ReaderError(path, f"sheet {name!r} is empty: expected a header row")
            return name, rows
    raise ReaderError(path, f"no sheet named {' or '.join(names)}; sheets were {wb.sheetnames}")


def _read_sheet(
    rows: list[tuple], specs: tuple[ColumnSpec, ...], where: str
) -> tuple[dict[str, list], list[int], list[str], dict[str, int]]:
    """Columns picked by name; dates parsed; blank rows skipped but sheet row numbers kept."""
    header = [clean_header(h) for h in rows[0]]
    positions = map_columns(header, specs, where)
    columns: dict[str, list] = {spec.name: [] for spec in specs}
    numbers: list[int] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(_text(c) for c in row):
            continue  # formatted but empty rows at the foot of a sheet
        numbers.append(number)
        for spec in specs:
            index = positions[spec.name]
            value = row[index] if index < len(row) else None
            if spec.name.endswith("_date"):
                value = parse_date(value, f"{where} row {number}", header[index])
            else:
                value = _text(value)
            columns[spec.name].append(value)
    return columns, numbers, header, positions


def _check_codes(
    values: list[str | None], numbers: list[int], pattern: str, where: str, column: str
) -> None:
    """Like base.check_codes, but with the sheet's own row numbers (blank rows are skipped)."""
    regex = re.compile(pattern)
    bad = [(n, v) for n, v in zip(numbers, values, strict=True) if not v or not regex.fullmatch(v)]
    if bad:
        shown = ", ".join(f"row {n}: {v!r}" for n, v in bad[:5])
        raise ReaderError(
            where, f"column {column}: {len(bad)} value(s) not like {pattern} ({shown})"
        )


def _schema_version(mapped: dict[str, dict[str, str]], path: Path) -> str:
    headers = {f"{table}.{name}": mapped[table][name] for table, name in _GEOGRAPHY}
    eras = {header.upper() in _CCG_HEADERS for header in headers.values()}
    if len(eras) != 1:
        raise ReaderError(path, f"mixes CCG-era and sub-ICB-era geography headers: {headers}")
    return "ccg" if eras.pop() else "sub_icb"


def _period(
    vintage: str | None, wb: openpyxl.Workbook, dates: list[date | None], path: Path
) -> str:
    """The release month: the landing vintage when the caller knows it.

    Without one, the month the workbook was last saved (docProps): for every real ePCN seen this is
    the release month, while the newest date inside is not (Apr 2022 holds spells dated June 2022,
    Jan 2025 none after October 2024). A re-saved copy carries its own save date, so callers that
    know the vintage pass it.
    """
    if vintage is not None:
        if not _VINTAGE.fullmatch(vintage):
            raise ReaderError(path, f"vintage {vintage!r} is not YYYY-MM")
        return vintage
    modified = wb.properties.modified
    if modified is not None:
        return modified.strftime("%Y-%m")
    known = [d for d in dates if d is not None]
    if not known:
        raise ReaderError(path, "no release date: no vintage given, no workbook date, no dates")
    return max(known).strftime("%Y-%m")


def read(path: Path, vintage: str | None = None) -> ReadResult:
    """Read one ePCN.xlsx (or the ODS epcn.zip holding it); `vintage` is the landing month."""
    wb = _open_workbook(path)
    try:
        pcn_sheet, pcn_rows = _sheet(wb, PCN_SHEETS, path)
        rel_sheet, rel_rows = _sheet(wb, PARTNER_SHEETS, path)
        pcn_where, rel_where = f"{path} [{pcn_sheet}]", f"{path} [{rel_sheet}]"
        pcns, pcn_numbers, pcn_header, pcn_pos = _read_sheet(pcn_rows, PCN_COLUMNS, pcn_where)
        rels, rel_numbers, rel_header, rel_pos = _read_sheet(
            rel_rows, RELATIONSHIP_COLUMNS, rel_where
        )
        mapped = {
            "pcns": mapped_names(pcn_header, pcn_pos),
            "relationships": mapped_names(rel_header, rel_pos),
        }
        schema_version = _schema_version(mapped, path)
        if not pcn_numbers or not rel_numbers:
            raise ReaderError(path, "an ePCN sheet has a header but no rows")

        _check_codes(pcns["pcn_code"], pcn_numbers, PCN_CODE, pcn_where, mapped["pcns"]["pcn_code"])
        _check_codes(
            rels["pcn_code"], rel_numbers, PCN_CODE, rel_where, mapped["relationships"]["pcn_code"]
        )
        _check_codes(
            rels["practice_code"],
            rel_numbers,
            PRACTICE_CODE,
            rel_where,
            mapped["relationships"]["practice_code"],
        )
        seen: dict[str, int] = {}
        for number, code in zip(pcn_numbers, pcns["pcn_code"], strict=True):
            if code in seen:  # one row per PCN: a repeat would double its practices downstream
                raise ReaderError(
                    pcn_where, f"PCN Code {code!r} on rows {seen[code]} and {number}: expected once"
                )
            seen[code] = number
        period = _period(
            vintage, wb, pcns["open_date"] + rels["start_date"] + rels["end_date"], path
        )
    finally:
        wb.close()
    return ReadResult(
        source=SOURCE,
        product="epcn",
        schema_version=schema_version,
        tables={
            "pcns": pa.table(pcns, schema=_PCN_SCHEMA),
            "relationships": pa.table(rels, schema=_REL_SCHEMA),
        },
        period=period,
        mapped_columns={
            f"{table}.{name}": header
            for table, cols in mapped.items()
            for name, header in cols.items()
        },
    )


_PCN_SCHEMA = pa.schema(
    [
        ("pcn_code", pa.string()),
        ("pcn_name", pa.string()),
        ("sub_icb_code", pa.string()),
        ("open_date", pa.date32()),
        ("close_date", pa.date32()),
    ]
)
_REL_SCHEMA = pa.schema(
    [
        ("practice_code", pa.string()),
        ("practice_name", pa.string()),
        ("practice_sub_icb_code", pa.string()),
        ("pcn_code", pa.string()),
        ("pcn_sub_icb_code", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
    ]
)
