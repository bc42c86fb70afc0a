"""OHID Fingertips export of indicator 93553: the IMD 2019 deprivation score by GP practice.

Seen (`indicator-data.csv`, the Fingertips "export" CSV): UTF-8 without a byte-order mark, CRLF
line ends, 27 named columns; one row per practice with `Area Type` `GP`, plus two England rows
(one with a blank Parent Code, one with England as its own parent): not practices, so they leave
the practice table, and their value, OHID's own England score, is kept as the England benchmark.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    PRACTICE_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    check_codes,
    read_csv_table,
)

SOURCE = "imd"
INDICATOR_ID = 93553  # "Deprivation score (IMD 2019)"; IMD 2015 had its own indicator id
GP_AREA_TYPE = "GP"  # the practice level as Fingertips labels it in this export
ENGLAND_AREA_TYPE = "England"
ENGLAND_CODE = "E92000001"

COLUMNS = (
    ColumnSpec("indicator_id", ("Indicator ID",)),
    ColumnSpec("practice_code", ("Area Code",)),
    ColumnSpec("practice_name", ("Area Name",)),
    ColumnSpec("area_type", ("Area Type",)),
    ColumnSpec("time_period", ("Time period",)),
    ColumnSpec("imd_score", ("Value",)),
)

SCHEMA = pa.schema(
    [
        ("practice_code", pa.string()),
        ("practice_name", pa.string()),
        ("imd_score", pa.float64()),
        ("time_period", pa.string()),
        ("indicator_id", pa.int64()),
    ]
)

ENGLAND_SCHEMA = pa.schema(
    [("area_code", pa.string()), ("imd_score", pa.float64()), ("time_period", pa.string())]
)


def read(path: Path) -> ReadResult:
    table = read_csv_table(path, COLUMNS, numbers=("imd_score",))
    cols, location = table.columns, table.location
    indicator_header = table.mapped["indicator_id"]
    wrong = [(n, v) for n, v in enumerate(cols["indicator_id"], 2) if v != str(INDICATOR_ID)]
    if wrong:
        shown = ", ".join(f"row {n}: {v!r}" for n, v in wrong[:5])
        raise ReaderError(
            location,
            f"column {indicator_header}: expected {INDICATOR_ID} (IMD 2019 score by GP practice) "
            f"on every row, found {len(wrong)} other(s) ({shown})",
        )
    keep = [i for i, t in enumerate(cols["area_type"]) if t == GP_AREA_TYPE]
    if not keep:
        types = sorted({t or "" for t in cols["area_type"]})
        raise ReaderError(
            location,
            f"column {table.mapped['area_type']}: no {GP_AREA_TYPE!r} (GP practice) rows; "
            f"area types were {types}",
        )
    # None for the rows dropped, so check_codes reports the file's own row numbers; a blank GP
    # code becomes '' so that it fails the check.
    kept = set(keep)
    codes = [(c or "") if i in kept else None for i, c in enumerate(cols["practice_code"])]
    check_codes(codes, PRACTICE_CODE, location, table.mapped["practice_code"])
    first: dict[str, int] = {}
    for i in keep:
        code = cols["practice_code"][i]
        if code in first:  # Sex/Age/Category breakdowns would repeat a practice: not this export
            raise ReaderError(location, f"practice {code!r} on rows {first[code]} and {i + 2}")
        first[code] = i + 2

    periods = {cols["time_period"][i] for i in keep}
    years = {m.group(1) for p in periods if p and (m := re.match(r"(\d{4})\b", p))}
    if len(periods) != 1 or len(years) != 1:
        raise ReaderError(
            location,
            f"column {table.mapped['time_period']}: expected one year, "
            f"found {sorted(map(str, periods))}",
        )
    # the England rows repeat one value (with and without a parent): one row, or a clear error
    england_scores = {
        cols["imd_score"][i]
        for i, t in enumerate(cols["area_type"])
        if t == ENGLAND_AREA_TYPE and cols["practice_code"][i] == ENGLAND_CODE
    }
    if not england_scores:
        raise ReaderError(
            location,
            f"column {table.mapped['area_type']}: no {ENGLAND_AREA_TYPE!r} row with area code "
            f"{ENGLAND_CODE}: OHID's England score is the England benchmark",
        )
    if len(england_scores) > 1:
        raise ReaderError(
            location,
            f"column {table.mapped['imd_score']}: the England ({ENGLAND_CODE}) rows disagree: "
            f"{sorted(map(str, england_scores))}",
        )
    england = {
        "area_code": [ENGLAND_CODE] * len(england_scores),
        "imd_score": list(england_scores),
        "time_period": [next(iter(periods))] * len(england_scores),
    }
    data = {
        "practice_code": [cols["practice_code"][i] for i in keep],
        "practice_name": [cols["practice_name"][i] for i in keep],
        "imd_score": [cols["imd_score"][i] for i in keep],
        "time_period": [cols["time_period"][i] for i in keep],
        "indicator_id": [INDICATOR_ID] * len(keep),
    }
    return ReadResult(
        source=SOURCE,
        product="practice_scores",
        schema_version="fingertips_export",
        tables={
            "practice_scores": pa.table(data, schema=SCHEMA),
            "england_scores": pa.table(england, schema=ENGLAND_SCHEMA),
        },
        # Fingertips labels the scores by the edition's year ('2019'); the English Indices of
        # Deprivation 2019 were published in September 2019, so that is the month they describe.
        period=f"{years.pop()}-09",
        mapped_columns=table.mapped,
    )
