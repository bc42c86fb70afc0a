"""Primary Care Network Workforce, individual-level CSV (one row per staff record).

Vintages read (all 12 real files checked): the 11 quarterly files Mar 2020 - Sep 2022
(`N.Primary Care Networks – <Month YYYY> Individual Level.csv`, en dash in the name), encoded
cp1252 with CRLF line ends, where 0x96 is the en dash of `Clinical Director – Medical`; and Jun
2026 (`1.Primary Care Networks - June 2026 Individual Level.csv`, a hyphen), UTF-8 with a
byte-order mark and CRLF, inside the publisher's zip `PCNWFIndividualCSV.MMYYYY.zip` next to a
definitions xlsx and a PDF guide, with `Applied Psychologist – Clinical` and the Mental Health
Practitioner roles. All share one header of 16 columns, picked here by name. schema_version is the
encoding seen: `cp1252`, `utf-8-sig` or `utf-8` (a file with no byte above 0x7F decodes as
`utf-8` whatever it was saved as).

Rules (written here once, applied by the reader, true for every real file):
- text cells are stripped: SUB_ICB_NAME carries trailing spaces up to Jun 2022;
- FTE is published as `1`, `0.5`, `0.533333333` or `14.12666667`; it is kept as published,
  including values above 1 (staff records up to 2; contracted services up to 14.13) and 0
  (10 records in Mar 2020, none later);
- an FTE above 50 on one record (MAX_RECORD_FTE) is refused: the largest seen is 14.13;
- a negative FTE (-0.026666667, on one or two records a file from Sep 2021 to Sep 2022) is not a
  real contract: it is set to missing and flagged in `is_negative_fte`, never summed;
- a blank FTE (none seen so far) is missing, not zero;
- `NWRS contracted services` records carry no identifier: UNIQUE_IDENTIFIER is the text `NULL`
  up to 2022 and blank in 2026, read as missing in both, so a count of distinct identifiers
  (headcount) never counts them; one person may hold several records (roles);
- byte-identical rows occur (2 in Mar 2020, 561 in Sep 2022, 2,019 in Jun 2026; nearly all
  contracted services) and are kept as the separate records the publisher lists.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    ICB_CODE,
    PCN_CODE,
    SUB_ICB_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    read_csv_table,
)

SOURCE = "pcn_workforce"
# No record can be this many full-time equivalents: the largest seen (2020-2026) is a contracted
# service of 14.13. A figure above it is a broken file, not a big team.
MAX_RECORD_FTE = 50.0

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
    check_codes(cols["sub_icb_code"], SUB_ICB_CODE, table.location, "SUB_ICB_CODE")
    check_codes(cols["icb_code"], ICB_CODE, table.location, "ICB_CODE")
    # The publisher's missing identifier on contracted services: `NULL` (2020-22) or blank (2026).
    cols["unique_identifier"] = [
        None if v is None or v.upper() == "NULL" else v for v in cols["unique_identifier"]
    ]
    censuses = set(zip(cols["census_year"], cols["census_month"], strict=True))
    if len(censuses) != 1:
        raise ReaderError(table.location, f"more than one census month: {sorted(censuses)}")
    census = _census_end(*censuses.pop(), table.location)
    n = len(cols["pcn_code"])
    fte = cols["fte"]
    too_big = [(row, v) for row, v in enumerate(fte, 2) if v is not None and v > MAX_RECORD_FTE]
    if too_big:
        shown = ", ".join(f"row {r}: {v:g}" for r, v in too_big[:5])
        raise ReaderError(
            table.location,
            f"column FTE: {len(too_big)} value(s) above {MAX_RECORD_FTE:g} for one record "
            f"({shown})",
        )
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
