"""General Practice Workforce: the practice-level "Detailed" CSV, one row per practice, 805 columns.

Published monthly as `GPWPracticeCSV.MMYYYY.zip` (older: `.MMYY.zip`) holding
`1 General Practice – <Month YYYY> Practice Level - Detailed.csv` (en dash; older releases:
`General Practice – June 2022 Practice Level.csv`, `20. General Practice – December 2020 ...`),
next to its definitions xlsx and, from January 2023, a narrow "High level" CSV (not read here).
Some archives republish earlier months, so a zip may hold several Detailed CSVs: the one for the
landing vintage is read.

Seen (dictionary of November 2025 and the publisher's "Changes in this series" notes):
- columns are picked by name only: positions move between releases (TOTAL_DPC_FTE was column 533
  in June 2024 and is column 539, TS, in the November 2025 dictionary);
- the file carries no date column: the month comes from the file name;
- missing marker 'ND' (no valid data) up to January 2023; from February 2023 'NA' for every kind of
  no data. Before February 2023 a practice that sent nothing at all shows 0, not a marker; the
  `*_SOURCE` columns say which practices that was. Both markers become null and are counted;
- `PCN_CODE`/`PCN_NAME` are 'Unaligned' for practices outside a PCN and 'NA' before PCNs existed:
  both become a null `pcn_code`, `is_unaligned` keeps the difference;
- NHS Talking Therapies therapist columns exist from April 2024 (High Intensity Therapists and
  Psychological Wellbeing Practitioners had their own columns before): required from 2024-04,
  null before. `TOTAL_GP_HC` and the `*_SOURCE` columns are read where present.
schema_version: 'nd_marker' (periods before 2023-02) or 'na_marker' (from 2023-02).
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

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
    clean_text,
    decode_bytes,
    map_columns,
    mapped_names,
    read_csv_rows,
    to_float,
)

SOURCE = "gp_workforce"
PRODUCT = "practice_detailed"

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# The en dash in member names is often mis-decoded (cp437 'ΓÇô'), so anything may sit between.
DETAILED_NAME = re.compile(
    r"General Practice\b.*?\b(" + "|".join(MONTHS) + r")\s+(\d{4})\s+Practice Level"
    r"(?:\s*-\s*Detailed)?\.csv$",
    re.IGNORECASE,
)
HIGH_LEVEL = re.compile(r"high.?level", re.IGNORECASE)
ZIP_NAME = re.compile(r"GPWPracticeCSV\.(\d{2})(\d{4}|\d{2})\.zip$", re.IGNORECASE)

NA_FROM = "2023-02"  # the first month published with 'NA' instead of 'ND'
TALKING_THERAPIES_FROM = "2024-04"  # NHS Talking Therapies columns replaced HIT/PWP columns
MARKERS = ("NA", "ND")
UNALIGNED = "Unaligned"

TEXT_COLUMNS = (
    ColumnSpec("practice_code", ("PRAC_CODE",)),
    ColumnSpec("practice_name", ("PRAC_NAME",)),
    ColumnSpec("pcn_code", ("PCN_CODE",)),
    ColumnSpec("pcn_name", ("PCN_NAME",)),
    ColumnSpec("sub_icb_code", ("SUB_ICB_CODE",)),
    ColumnSpec("icb_code", ("ICB_CODE",)),
    ColumnSpec("gp_source", ("GP_SOURCE",), required=False),
    ColumnSpec("nurse_source", ("NURSE_SOURCE",), required=False),
    ColumnSpec("dpc_source", ("DPC_SOURCE",), required=False),
    ColumnSpec("admin_source", ("ADMIN_SOURCE",), required=False),
)
TALKING_THERAPIES = ("TOTAL_DPC_NHS_TALKING_THERA_HC", "TOTAL_DPC_NHS_TALKING_THERA_FTE")
NUMBER_NAMES = (
    "TOTAL_PATIENTS",
    "TOTAL_GP_HC",
    "TOTAL_GP_FTE",
    "TOTAL_NURSES_FTE",
    "TOTAL_DPC_FTE",
    "TOTAL_ADMIN_FTE",
    "TOTAL_DPC_SPLW_HC",
    "TOTAL_DPC_SPLW_FTE",
    "TOTAL_DPC_THERA_COU_HC",
    "TOTAL_DPC_THERA_COU_FTE",
    *TALKING_THERAPIES,
)
OPTIONAL_NUMBERS = ("TOTAL_GP_HC",)


def number_columns(period: str) -> tuple[ColumnSpec, ...]:
    """The numeric columns read, lower-cased; which are required depends on the month."""
    optional = set(OPTIONAL_NUMBERS)
    if period < TALKING_THERAPIES_FROM:
        optional |= set(TALKING_THERAPIES)
    return tuple(ColumnSpec(n.lower(), (n,), required=n not in optional) for n in NUMBER_NAMES)


SCHEMA = pa.schema(
    [
        ("practice_code", pa.string()),
        ("practice_name", pa.string()),
        ("pcn_code", pa.string()),
        ("pcn_name", pa.string()),
        ("is_unaligned", pa.bool_()),
        ("sub_icb_code", pa.string()),
        ("icb_code", pa.string()),
        ("gp_source", pa.string()),
        ("nurse_source", pa.string()),
        ("dpc_source", pa.string()),
        ("admin_source", pa.string()),
        *[(n.lower(), pa.float64()) for n in NUMBER_NAMES],
    ]
)
MISSING_SCHEMA = pa.schema(
    [
        ("column", pa.string()),
        ("published_column", pa.string()),
        ("marker", pa.string()),
        ("rows", pa.int64()),
    ]
)


def period_from_name(name: str) -> str | None:
    """`YYYY-MM` of a Detailed CSV from its name ('... May 2026 Practice Level - Detailed.csv')."""
    found = DETAILED_NAME.search(Path(name).name)
    if found is None or HIGH_LEVEL.search(name):
        return None
    return f"{int(found.group(2)):04d}-{MONTHS.index(found.group(1).lower()) + 1:02d}"


def _zip_period(path: Path) -> str | None:
    found = ZIP_NAME.search(path.name)
    if found is None:
        return None
    month, year = found.groups()
    return f"{int(year) + (2000 if len(year) == 2 else 0):04d}-{month}"


def _raw_file(path: Path, vintage: str | None) -> tuple[bytes, str, str]:
    """Bytes, location and month of the Detailed CSV (plain, or the right member of the zip)."""
    if not zipfile.is_zipfile(path):
        period = period_from_name(path.name)
        if period is None:
            raise ReaderError(
                path,
                "cannot tell the month: expected a name like "
                "'1 General Practice – May 2026 Practice Level - Detailed.csv'",
            )
        check_size(path)
        return path.read_bytes(), str(path), period
    with zipfile.ZipFile(path) as zf:
        members = {n: p for n in zf.namelist() if (p := period_from_name(n)) is not None}
        if len(members) > 1:
            # An archive republishing earlier months: read the landed month.
            wanted = vintage or _zip_period(path)
            members = {n: p for n, p in members.items() if p == wanted}
        if len(members) != 1:
            raise ReaderError(
                path,
                "expected one 'General Practice – <Month YYYY> Practice Level - Detailed.csv' "
                f"member{' for ' + vintage if vintage else ''}, found "
                f"{sorted(members) or 'none'} among {zf.namelist()}",
            )
        name, period = members.popitem()
        check_member(path, zf.getinfo(name))
        return zf.read(name), f"{path}!{name}", period


def _numbers(
    values: list[str], location: str, published: str
) -> tuple[list[float | None], Counter]:
    parsed: list[float | None] = []
    markers: Counter = Counter()
    for row, value in enumerate(values, start=2):
        text = value.strip()
        if text in MARKERS:
            markers[text] += 1
            parsed.append(None)
            continue
        if text == "":
            markers["blank"] += 1
            parsed.append(None)
            continue
        number = to_float(text)
        if number is None or number < 0:  # headcounts, FTE and patients are never negative
            raise ReaderError(
                location,
                f"row {row}, column {published}: {text!r} is not a number (0 or more), "
                "'NA' or 'ND'",
            )
        parsed.append(number)
    return parsed, markers


def read(path: Path, vintage: str | None = None) -> ReadResult:
    """The Detailed CSV as one table `practice_fte` (+ `missing_markers`: nulls by column)."""
    path = Path(path)
    raw, location, period = _raw_file(path, vintage)
    if vintage is not None and vintage != period:
        raise ReaderError(location, f"the file is for {period} but was landed as {vintage}")
    text, _encoding = decode_bytes(raw, location)
    header, rows = read_csv_rows(text, location)
    if not rows:
        raise ReaderError(location, "no practice rows")
    specs = TEXT_COLUMNS + number_columns(period)
    positions = map_columns(header, specs, location)
    n = len(rows)

    data: dict[str, list] = {}
    missing: list[tuple[str, str, str, int]] = []
    for spec in specs:
        index = positions.get(spec.name)
        if index is None:  # an optional column this release does not publish
            data[spec.name] = [None] * n
            continue
        published = header[index]
        values = [row[index] for row in rows]
        if spec in TEXT_COLUMNS:
            data[spec.name] = [clean_text(v) for v in values]
            counts = Counter(
                v or "blank" for v in data[spec.name] if v in (None, UNALIGNED, *MARKERS)
            )
        else:
            data[spec.name], counts = _numbers(values, location, published)
        missing.extend((spec.name, published, m, c) for m, c in sorted(counts.items()))

    numeric = {spec.name for spec in specs if spec not in TEXT_COLUMNS}
    nd_rows = [(p, r) for c, p, m, r in missing if m == "ND" and c in numeric]
    if nd_rows and period >= NA_FROM:
        shown = ", ".join(f"{p} ({r} rows)" for p, r in nd_rows[:5])
        raise ReaderError(
            location,
            f"'ND' cells in a file for {period}: the publisher uses 'NA' from February 2023 "
            f"({shown})",
        )

    codes = data["practice_code"]
    check_codes(codes, PRACTICE_CODE, location, "PRAC_CODE")
    repeated = sorted(c for c, k in Counter(codes).items() if k > 1)
    if repeated:
        raise ReaderError(location, f"PRAC_CODE repeated (one row per practice): {repeated[:5]}")
    marker = {UNALIGNED, *MARKERS}.__contains__
    check_codes(data["pcn_code"], PCN_CODE, location, "PCN_CODE", allowed=marker)
    check_codes(data["sub_icb_code"], SUB_ICB_CODE, location, "SUB_ICB_CODE", allowed=marker)
    check_codes(data["icb_code"], ICB_CODE, location, "ICB_CODE", allowed=marker)

    data["is_unaligned"] = [v == UNALIGNED for v in data["pcn_code"]]
    for name in ("practice_name", "pcn_code", "pcn_name", "sub_icb_code", "icb_code"):
        # 'Unaligned' / 'NA' are markers, not codes or names.
        data[name] = [None if v in (UNALIGNED, *MARKERS) else v for v in data[name]]
    for name in ("gp_source", "nurse_source", "dpc_source", "admin_source"):
        data[name] = [None if v in MARKERS else v for v in data[name]]

    return ReadResult(
        source=SOURCE,
        product=PRODUCT,
        schema_version="nd_marker" if period < NA_FROM else "na_marker",
        tables={
            "practice_fte": pa.table({k: data[k] for k in SCHEMA.names}, schema=SCHEMA),
            "missing_markers": pa.table(
                [list(col) for col in zip(*missing, strict=True)] if missing else [[]] * 4,
                schema=MISSING_SCHEMA,
            ),
        },
        period=period,
        mapped_columns=mapped_names(header, positions),
    )
