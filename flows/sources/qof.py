"""Quality and Outcomes Framework PREVALENCE file: practice registers and list sizes by group.

Seen: `REGISTER` written as a decimal (`113.0`) from 2022-23; MH counts against the TOTAL list,
DEP against the 18OV list. The vintage is the month the QOF year ends (2025-03 for 2024-25).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    PRACTICE_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    parse_number,
    read_csv_table,
)

SOURCE = "qof"

COLUMNS = (
    ColumnSpec("practice_code", ("PRACTICE_CODE",)),
    ColumnSpec("group_code", ("GROUP_CODE",)),
    ColumnSpec("register", ("REGISTER",)),
    ColumnSpec("patient_list_type", ("PATIENT_LIST_TYPE",)),
    ColumnSpec("practice_list_size", ("PRACTICE_LIST_SIZE",)),
)

SCHEMA = pa.schema(
    [
        ("practice_code", pa.string()),
        ("group_code", pa.string()),
        ("register", pa.float64()),
        ("patient_list_type", pa.string()),
        ("practice_list_size", pa.float64()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
    ]
)


def qof_year(vintage: str, location: str) -> tuple[date, date]:
    """QOF year from the vintage month it ends in (e.g. 2025-03 is 1 Apr 2024 to 31 Mar 2025)."""
    year, month = (int(x) for x in vintage.split("-"))
    if month != 3:
        raise ReaderError(location, f"a QOF vintage ends in March, not {vintage}")
    return date(year - 1, 4, 1), date(year, 3, 31)


def read(path: Path, vintage: str) -> ReadResult:
    table = read_csv_table(
        path,
        COLUMNS,
        member_pattern=r"PREVALENCE.*\.csv$",
        numbers=("practice_list_size",),
    )
    cols = table.columns
    raw_registers = cols["register"]
    decimal = any(v is not None and "." in v for v in raw_registers)
    cols["register"] = [
        parse_number(v or "", table.location, "REGISTER", n) for n, v in enumerate(raw_registers, 2)
    ]
    check_codes(cols["practice_code"], PRACTICE_CODE, table.location, "PRACTICE_CODE")
    start, end = qof_year(vintage, table.location)
    n = len(cols["practice_code"])
    data = {**cols, "period_start": [start] * n, "period_end": [end] * n}
    return ReadResult(
        source=SOURCE,
        product="prevalence",
        schema_version="decimal_register" if decimal else "integer_register",
        tables={"prevalence": pa.table(data, schema=SCHEMA)},
        period=vintage,
        mapped_columns=table.mapped,
    )
