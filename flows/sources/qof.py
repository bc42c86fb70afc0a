"""Quality and Outcomes Framework PREVALENCE file: practice registers and list sizes by group.

Vintages read (real files checked): 2020-21 `PREVALENCE_2021_v2.csv` (REGISTER an integer, `95`),
2022-23 `PREVALENCE_2223.csv` and 2024-25 `PREVALENCE_2425.csv` (REGISTER written as a decimal,
`113.0`). All: UTF-8 without a byte-order mark, LF line ends, the same five columns, 21 groups
per practice, PRACTICE_LIST_SIZE an integer. MH counts against the TOTAL list, DEP against the
18OV list. schema_version is `integer_register` or `decimal_register`; registers and list sizes
must be whole numbers either way.

The vintage passed in is the month the QOF year ends (2025-03 for 2024-25). The publisher's file
name carries the year (`2021` is 2020-21, `2425` is 2024-25): a vintage that disagrees with it is
an error, so a file landed under the wrong year cannot be read as another year.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    PRACTICE_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    parse_count,
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

# PREVALENCE_2021_v2.csv, PREVALENCE_2223.csv: two 2-digit years, the second the year it ends.
NAME_YEARS = re.compile(r"PREVALENCE_(\d{2})(\d{2})(?:_v\d+)?\.csv$", re.I)


def qof_year(vintage: str, location: str) -> tuple[date, date]:
    """QOF year from the vintage month it ends in (e.g. 2025-03 is 1 Apr 2024 to 31 Mar 2025)."""
    try:
        year, month = (int(x) for x in vintage.split("-"))
    except ValueError as exc:
        raise ReaderError(location, f"vintage {vintage!r} is not YYYY-MM") from exc
    if month != 3:
        raise ReaderError(location, f"a QOF vintage ends in March, not {vintage}")
    return date(year - 1, 4, 1), date(year, 3, 31)


def _check_name_year(path: Path, end: date, location: str) -> None:
    found = NAME_YEARS.search(path.name)
    if not found:
        return
    first, second = (int(x) for x in found.groups())
    if second != (first + 1) % 100:
        return  # not a QOF-year pair: say nothing rather than guess
    if 2000 + second != end.year:
        raise ReaderError(
            location,
            f"the file name is QOF year 20{first:02d}-{second:02d} (vintage 20{second:02d}-03), "
            f"but vintage {end:%Y-%m} was given",
        )


def _whole_numbers(values: list[str | None], location: str, column: str) -> list[float | None]:
    """Counts written as `95` or `95.0`; a fraction, a negative or text names the row and column."""
    return [
        parse_count(value or "", location, column, row) for row, value in enumerate(values, start=2)
    ]


def read(path: Path, vintage: str) -> ReadResult:
    table = read_csv_table(path, COLUMNS, member_pattern=r"PREVALENCE.*\.csv$")
    cols = table.columns
    where = table.location
    start, end = qof_year(vintage, where)
    _check_name_year(path, end, where)
    decimal = any(v is not None and "." in v for v in cols["register"])
    cols["register"] = _whole_numbers(cols["register"], where, "REGISTER")
    cols["practice_list_size"] = _whole_numbers(
        cols["practice_list_size"], where, "PRACTICE_LIST_SIZE"
    )
    check_codes(cols["practice_code"], PRACTICE_CODE, where, "PRACTICE_CODE")
    seen: dict[tuple[str | None, str | None], int] = {}
    for row, key in enumerate(zip(cols["practice_code"], cols["group_code"], strict=True), 2):
        if key in seen:
            raise ReaderError(
                where, f"row {row}: practice {key[0]} group {key[1]} repeats row {seen[key]}"
            )
        seen[key] = row
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
