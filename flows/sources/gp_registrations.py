"""Patients Registered at a GP Practice: `gp-reg-pat-prac-all` (list sizes) and `-map` (practice to
PCN, sub-ICB and ICB).

Seen: CCG-era columns (CCG_CODE, STP_*) up to mid-2022, sub-ICB-era columns after; EXTRACT_DATE as
01JAN2021, 2025-10-01, 01-Sep-20 or 01Jan2026; practices outside a PCN carry PCN_CODE `U`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    PCN_CODE,
    PRACTICE_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    read_csv_table,
)

SOURCE = "gp_registrations"

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
)


def _schema_version(header: list[str]) -> str:
    return "ccg" if "CCG_CODE" in header else "sub_icb"


def read_prac_all(path: Path) -> ReadResult:
    table = read_csv_table(
        path,
        PRAC_ALL_COLUMNS,
        member_pattern=r"gp-reg-pat-prac-all.*\.csv$",
        numbers=("registered_patients",),
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
    extract_dates = {cols["extract_date"][i] for i in keep}
    if len(extract_dates) != 1:
        raise ReaderError(table.location, f"EXTRACT_DATE is not one date: {sorted(extract_dates)}")
    data = {
        "extract_date": [cols["extract_date"][i] for i in keep],
        "sub_icb_code": [cols["sub_icb_code"][i] for i in keep],
        "practice_code": [cols["practice_code"][i] for i in keep],
        "registered_patients": [cols["registered_patients"][i] for i in keep],
    }
    schema = pa.schema(
        [
            ("extract_date", pa.date32()),
            ("sub_icb_code", pa.string()),
            ("practice_code", pa.string()),
            ("registered_patients", pa.float64()),
        ]
    )
    return ReadResult(
        source=SOURCE,
        product="prac_all",
        schema_version=_schema_version(table.header),
        tables={"list_sizes": pa.table(data, schema=schema)},
        period=extract_dates.pop().strftime("%Y-%m"),
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
    check_codes(cols["practice_code"], PRACTICE_CODE, table.location, "PRACTICE_CODE")
    check_codes(cols["pcn_code"], PCN_CODE, table.location, "PCN_CODE", allowed=lambda v: v == "U")
    extract_dates = set(cols["extract_date"])
    if len(extract_dates) != 1:
        raise ReaderError(table.location, f"EXTRACT_DATE is not one date: {sorted(extract_dates)}")
    schema = pa.schema(
        [("extract_date", pa.date32())]
        + [(spec.name, pa.string()) for spec in PRAC_MAP_COLUMNS if spec.name != "extract_date"]
    )
    return ReadResult(
        source=SOURCE,
        product="prac_map",
        schema_version=_schema_version(table.header),
        tables={"practice_mappings": pa.table(cols, schema=schema)},
        period=extract_dates.pop().strftime("%Y-%m"),
        mapped_columns=table.mapped,
    )
