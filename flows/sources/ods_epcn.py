"""ODS ePCN.xlsx: PCNs (open/close dates) and practice-to-PCN relationship spells.

Seen: sheet `PCN Details` (2019) or `PCNDetails` (2022 on); headers with line breaks and trailing
spaces; CCG-era (2019, 2022) and sub-ICB-era (2023 on) header names; dates as integers (2019) or
`YYYYMMDD` text; in 2019 the partner sheet's PCN name is an Excel formula (not a value).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa

from flows.sources.base import (
    PCN_CODE,
    PRACTICE_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    clean_header,
    map_columns,
    mapped_names,
    parse_date,
)

SOURCE = "ods_epcn"

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
    ColumnSpec(
        "start_date",
        ("Practice to PCN Relationship Start Date",),
    ),
    ColumnSpec("end_date", ("Practice to PCN Relationship End Date",)),
)


def _sheet_rows(wb: openpyxl.Workbook, names: tuple[str, ...], path: Path) -> list[tuple]:
    for name in names:
        if name in wb.sheetnames:
            return list(wb[name].iter_rows(values_only=True))
    raise ReaderError(path, f"no sheet named {' or '.join(names)}; sheets were {wb.sheetnames}")


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _open_workbook(path: Path) -> openpyxl.Workbook:
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "[Content_Types].xml" not in zf.namelist():  # the ODS epcn.zip wraps the xlsx
                members = [n for n in zf.namelist() if n.lower().endswith("epcn.xlsx")]
                if len(members) != 1:
                    raise ReaderError(path, f"expected one ePCN.xlsx inside, found {zf.namelist()}")
                data = zf.read(members[0])
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not xlsx
        raise ReaderError(path, f"not a readable xlsx workbook ({exc.__class__.__name__})") from exc


def read(path: Path) -> ReadResult:
    wb = _open_workbook(path)
    pcn_rows = _sheet_rows(wb, ("PCNDetails", "PCN Details"), path)
    rel_rows = _sheet_rows(wb, ("PCN Core Partner Details",), path)
    if not pcn_rows or not rel_rows:
        raise ReaderError(path, "an ePCN sheet is empty")

    pcn_header = [clean_header(h) for h in pcn_rows[0]]
    rel_header = [clean_header(h) for h in rel_rows[0]]
    pcn_pos = map_columns(pcn_header, PCN_COLUMNS, f"{path} [PCN Details]")
    rel_pos = map_columns(rel_header, RELATIONSHIP_COLUMNS, f"{path} [PCN Core Partner Details]")
    schema_version = "ccg" if "CCG" in " ".join(rel_header) else "sub_icb"

    pcns: dict[str, list] = {spec.name: [] for spec in PCN_COLUMNS}
    for row in pcn_rows[1:]:
        if not any(_text(c) for c in row):
            continue
        for spec in PCN_COLUMNS:
            value = row[pcn_pos[spec.name]]
            if spec.name.endswith("_date"):
                pcns[spec.name].append(parse_date(value, path, spec.published[0]))
            else:
                pcns[spec.name].append(_text(value))
    rels: dict[str, list] = {spec.name: [] for spec in RELATIONSHIP_COLUMNS}
    for row in rel_rows[1:]:
        if not any(_text(c) for c in row):
            continue
        for spec in RELATIONSHIP_COLUMNS:
            value = row[rel_pos[spec.name]]
            if spec.name.endswith("_date"):
                rels[spec.name].append(parse_date(value, path, spec.published[0]))
            else:
                rels[spec.name].append(_text(value))

    check_codes(pcns["pcn_code"], PCN_CODE, f"{path} [PCN Details]", "PCN Code")
    check_codes(rels["pcn_code"], PCN_CODE, f"{path} [PCN Core Partner Details]", "PCN Code")
    check_codes(
        rels["practice_code"],
        PRACTICE_CODE,
        f"{path} [PCN Core Partner Details]",
        "Partner Organisation Code",
    )
    latest = max(
        [d for d in pcns["open_date"] + rels["start_date"] + rels["end_date"] if d is not None]
    )
    return ReadResult(
        source=SOURCE,
        product="epcn",
        schema_version=schema_version,
        tables={
            "pcns": pa.table(pcns, schema=_PCN_SCHEMA),
            "relationships": pa.table(rels, schema=_REL_SCHEMA),
        },
        period=latest.strftime("%Y-%m"),
        mapped_columns={
            **{f"pcns.{k}": v for k, v in mapped_names(pcn_header, pcn_pos).items()},
            **{f"relationships.{k}": v for k, v in mapped_names(rel_header, rel_pos).items()},
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
