"""Primary Care Network Workforce, individual-level CSV (one row per staff record).

Seen: cp1252 up to 2022 (0x96 en dashes), UTF-8 with a byte-order mark in 2026, inside the
publisher's zip `PCNWFIndividualCSV.MMYYYY.zip`; trailing spaces in names.
FTE rules (written here once, applied by the reader):
- FTE is kept as published, including values above 1 (a person contracted for more than 37.5 hours);
- a negative FTE is not a real contract: it is set to missing and counted, never summed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    PCN_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    read_csv_table,
)

SOURCE = "pcn_workforce"

COLUMNS = (
    ColumnSpec("data_source", ("Data_source",)),
    ColumnSpec("census_year", ("CENSUS_YEAR",)),
    ColumnSpec("census_month", ("CENSUS_MONTH",)),
    ColumnSpec("pcn_code", ("PCN_CODE",)),
    ColumnSpec("pcn_name", ("PCN_NAME",)),
    ColumnSpec("sub_icb_code", ("SUB_ICB_CODE",)),
    ColumnSpec("icb_code", ("ICB_CODE",)),
    ColumnSpec("staff_group", ("STAFF_GROUP",)),
    ColumnSpec("staff_role", ("STAFF_ROLE",)),
    ColumnSpec("detailed_staff_role", ("DETAILED_STAFF_ROLE",)),
    ColumnSpec("fte", ("FTE",)),
    ColumnSpec("unique_identifier", ("UNIQUE_IDENTIFIER",)),
)

SCHEMA = pa.schema(
    [
        ("census_date", pa.date32()),
        ("data_source", pa.string()),
        ("pcn_code", pa.string()),
        ("pcn_name", pa.string()),
        ("sub_icb_code", pa.string()),
        ("icb_code", pa.string()),
        ("staff_group", pa.string()),
        ("staff_role", pa.string()),
        ("detailed_staff_role", pa.string()),
        ("fte", pa.float64()),
        ("is_negative_fte", pa.bool_()),
        ("unique_identifier", pa.string()),
    ]
)


def _census_end(year: str, month: str, location: str) -> date:
    try:
        y, m = int(year), int(month)
        first_next = date(y + (m == 12), m % 12 + 1, 1)
    except ValueError as exc:
        raise ReaderError(location, f"CENSUS_YEAR/CENSUS_MONTH {year!r}/{month!r}") from exc
    return date.fromordinal(first_next.toordinal() - 1)


def read(path: Path) -> ReadResult:
    table = read_csv_table(
        path,
        COLUMNS,
        member_pattern=r"Primary Care Networks.*Individual Level\.csv$",
        numbers=("fte",),
    )
    cols = table.columns
    check_codes(cols["pcn_code"], PCN_CODE, table.location, "PCN_CODE")
    censuses = set(zip(cols["census_year"], cols["census_month"], strict=True))
    if len(censuses) != 1:
        raise ReaderError(table.location, f"more than one census month: {sorted(censuses)}")
    census = _census_end(*censuses.pop(), table.location)
    n = len(cols["pcn_code"])
    fte = cols["fte"]
    negative = [v is not None and v < 0 for v in fte]
    data = {
        "census_date": [census] * n,
        **{k: cols[k] for k in SCHEMA.names if k in cols and k != "fte"},
        "fte": [None if neg else v for v, neg in zip(fte, negative, strict=True)],
        "is_negative_fte": negative,
    }
    return ReadResult(
        source=SOURCE,
        product="individual",
        schema_version=table.encoding,
        tables={"staff_records": pa.table(data, schema=SCHEMA)},
        period=census.strftime("%Y-%m"),
        mapped_columns=table.mapped,
    )
