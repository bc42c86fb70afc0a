"""NHS Talking Therapies (formerly IAPT): the monthly activity_performance CSV and the annual
"main" CSV.

Monthly (long, 10 columns): REPORTING_PERIOD_START, REPORTING_PERIOD_END, GROUP_TYPE, ORG_CODE1,
ORG_NAME1, ORG_CODE2, ORG_NAME2, MEASURE_ID, MEASURE_NAME and the value, MEASURE_VALUE_SUPPRESSED
(MEASURE_VALUE in March 2021 only). Seen: dates DD/MM/YYYY (2023) and ISO (2025); suppression
markers `*` and `-`; England rows carry `all` in both code columns. There is no practice or PCN
level. Rows of a GROUP_TYPE the publisher is not known to use (the 2025-09 package fixture has a
synthetic `ABC` row) are counted in the table `unknown_group_types` and left out of `measures`.

Annual main (wide): OrgType, OrgCode, OrgName, VariableType, VariableA, VariableB, then one column
per measure. The 2019-20 header writes `CountReferralsReceived`, `CountFirstTreatment`,
`MeanWaitEnteredTreatment`; the 2024-25 header writes `Count_ReferralsReceived`,
`Count_AccessingServices`, `Mean_WaitAccessingServices`. Both map to one set of names, the
2024-25 names in snake_case. Cells: a number, `*` or `-` (suppressed), `NULL` or `N/A` (not
applicable; VariableA / VariableB of `Total` rows are `NULL` too, read as missing), or blank (not
given). Waits within 6 and 18 weeks are not columns of the main CSV: they are the `Waiting Time`
breakdown rows of `count_finished_course_treatment`, VariableA `First treatment` (up to 2021-22)
or `Accessing services` (from 2022-23), VariableB `<6 weeks` / `<18 weeks`. Every row is read,
whatever its breakdown (the other `Waiting Time` rows - `<=28 days` ... `Mean wait`, `First to
Second treatment`, `No second treatment appointment` - carry `NULL` in most measures).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from flows.sources.base import (
    SUB_ICB_CODE,
    ColumnSpec,
    ReaderError,
    ReadResult,
    read_csv_table,
    to_float,
)

SOURCE = "talking_therapies"

# ---------------------------------------------------------------------------------------------
# Monthly activity_performance CSV
# ---------------------------------------------------------------------------------------------

VALUE_SUPPRESSED = "MEASURE_VALUE_SUPPRESSED"
VALUE_PLAIN = "MEASURE_VALUE"

MONTHLY_COLUMNS = (
    ColumnSpec("period_start", ("REPORTING_PERIOD_START",)),
    ColumnSpec("period_end", ("REPORTING_PERIOD_END",)),
    ColumnSpec("group_type", ("GROUP_TYPE",)),
    ColumnSpec("org_code1", ("ORG_CODE1",)),
    ColumnSpec("org_name1", ("ORG_NAME1",)),
    ColumnSpec("org_code2", ("ORG_CODE2",)),
    ColumnSpec("org_name2", ("ORG_NAME2",)),
    ColumnSpec("measure_id", ("MEASURE_ID",)),
    ColumnSpec("measure_name", ("MEASURE_NAME",)),
    ColumnSpec("value", (VALUE_SUPPRESSED, VALUE_PLAIN)),
)

GROUP_TYPES = ("England", "CommissioningRegion", "SubICB", "Provider", "SubICB/Provider")
SUPPRESSED = frozenset({"*", "-"})
MEASURE_ID = r"M\d{3,4}"
PROVIDER_CODE = r"[0-9A-Z]{3,5}"

# Each date style the publisher has used, with the pattern that recognises it.
DATE_STYLES = {
    "iso_dates": (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    "dmy_dates": (re.compile(r"\d{2}/\d{2}/\d{4}"), "%d/%m/%Y"),
}

MONTHLY_SCHEMA = pa.schema(
    [
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("group_type", pa.string()),
        ("org_code1", pa.string()),
        ("org_name1", pa.string()),
        ("org_code2", pa.string()),
        ("org_name2", pa.string()),
        ("measure_id", pa.string()),
        ("measure_name", pa.string()),
        ("value", pa.float64()),
        ("is_suppressed", pa.bool_()),
    ]
)
UNKNOWN_GROUPS_SCHEMA = pa.schema([("group_type", pa.string()), ("row_count", pa.int64())])


def _date_style(text: str, location: str, column: str, row: int) -> str:
    for style, (pattern, _) in DATE_STYLES.items():
        if pattern.fullmatch(text):
            return style
    raise ReaderError(
        location, f"row {row}, column {column}: {text!r} is not a date as YYYY-MM-DD or DD/MM/YYYY"
    )


def _parse_dates(
    values: list[str | None], rows: list[int], style: str, location: str, column: str
) -> list[date]:
    """Every date in one file uses one style; a row in another style names itself."""
    pattern, fmt = DATE_STYLES[style]
    cache: dict[str, date] = {}
    parsed: list[date] = []
    for text, row in zip(values, rows, strict=True):
        if text is None or not pattern.fullmatch(text):
            raise ReaderError(
                location, f"row {row}, column {column}: {text!r} is not a date in the file's style"
            )
        if text not in cache:
            try:
                cache[text] = datetime.strptime(text, fmt).date()
            except ValueError as exc:
                raise ReaderError(
                    location, f"row {row}, column {column}: {text!r} is not a real date"
                ) from exc
        parsed.append(cache[text])
    return parsed


def _parse_value(
    text: str | None, location: str, column: str, row: int
) -> tuple[float | None, bool]:
    """A published value: a number, a suppression marker (`*`, `-`), or blank."""
    if text is None:
        return None, False
    if text in SUPPRESSED:
        return None, True
    number = to_float(text)
    if number is None:
        raise ReaderError(
            location,
            f"row {row}, column {column}: {text!r} is not a number or a suppression marker "
            f"({', '.join(sorted(SUPPRESSED))})",
        )
    return number, False


def _check_codes_by_row(
    values: list[str | None], rows: list[int], pattern: str, location: str, column: str
) -> None:
    """Codes must match the publisher's format; name the file lines of the first that do not."""
    regex = re.compile(pattern)
    bad = [(r, v) for v, r in zip(values, rows, strict=True) if v is None or not regex.fullmatch(v)]
    if bad:
        shown = ", ".join(f"row {r}: {v!r}" for r, v in bad[:5])
        raise ReaderError(
            location, f"column {column}: {len(bad)} value(s) not like {pattern} ({shown})"
        )


def read_monthly(path: Path) -> ReadResult:
    """The monthly activity_performance CSV as one long `measures` table."""
    table = read_csv_table(path, MONTHLY_COLUMNS, member_pattern=r"activity.*\.csv$")
    cols = table.columns
    location = table.location
    value_column = table.header[table.positions["value"]]

    groups = cols["group_type"]
    unknown = Counter(g or "" for g in groups if g not in GROUP_TYPES)
    keep = [i for i, g in enumerate(groups) if g in GROUP_TYPES]
    if not keep:
        raise ReaderError(
            location,
            f"no rows of a known GROUP_TYPE ({', '.join(GROUP_TYPES)}); saw {dict(unknown)}",
        )
    rows = [i + 2 for i in keep]  # file line numbers, for messages
    kept = {name: [values[i] for i in keep] for name, values in cols.items()}

    first_start = kept["period_start"][0] or ""
    style = _date_style(first_start, location, "REPORTING_PERIOD_START", rows[0])
    starts = _parse_dates(kept["period_start"], rows, style, location, "REPORTING_PERIOD_START")
    ends = _parse_dates(kept["period_end"], rows, style, location, "REPORTING_PERIOD_END")
    if len(set(ends)) != 1:
        raise ReaderError(
            location, f"REPORTING_PERIOD_END is not one date: {sorted(map(str, set(ends)))}"
        )

    _check_codes_by_row(kept["measure_id"], rows, MEASURE_ID, location, "MEASURE_ID")
    for i, (group, code1, code2) in enumerate(
        zip(kept["group_type"], kept["org_code1"], kept["org_code2"], strict=True)
    ):
        # The publisher's own England row is the benchmark: it must be the all/all row.
        if group == "England" and (code1, code2) != ("all", "all"):
            raise ReaderError(
                location,
                f"row {rows[i]}: an England row must have ORG_CODE1 and ORG_CODE2 'all', "
                f"found {code1!r} and {code2!r}",
            )
    for group_types, column, pattern in (
        (("SubICB", "SubICB/Provider"), "org_code1", SUB_ICB_CODE),
        (("Provider", "SubICB/Provider"), "org_code2", PROVIDER_CODE),
    ):
        picked = [i for i, g in enumerate(kept["group_type"]) if g in group_types]
        _check_codes_by_row(
            [kept[column][i] for i in picked],
            [rows[i] for i in picked],
            pattern,
            location,
            f"{column.upper()} ({' and '.join(group_types)} rows)",
        )

    values: list[float | None] = []
    suppressed: list[bool] = []
    for text, row in zip(kept["value"], rows, strict=True):
        value, is_suppressed = _parse_value(text, location, value_column, row)
        values.append(value)
        suppressed.append(is_suppressed)

    data = {
        **{name: kept[name] for name in MONTHLY_SCHEMA.names if name in kept},
        "period_start": starts,
        "period_end": ends,
        "value": values,
        "is_suppressed": suppressed,
    }
    unknown_table = pa.table(
        {
            "group_type": sorted(unknown),
            "row_count": [unknown[g] for g in sorted(unknown)],
        },
        schema=UNKNOWN_GROUPS_SCHEMA,
    )
    version = "measure_value_suppressed" if value_column == VALUE_SUPPRESSED else "measure_value"
    return ReadResult(
        source=SOURCE,
        product="monthly",
        schema_version=f"{version}+{style}",
        tables={
            "measures": pa.table(data, schema=MONTHLY_SCHEMA),
            "unknown_group_types": unknown_table,
        },
        period=ends[0].strftime("%Y-%m"),
        mapped_columns=table.mapped,
    )


# ---------------------------------------------------------------------------------------------
# Annual main CSV
# ---------------------------------------------------------------------------------------------

ANNUAL_ID_COLUMNS = (
    ColumnSpec("org_type", ("OrgType",)),
    ColumnSpec("org_code", ("OrgCode",)),
    ColumnSpec("org_name", ("OrgName",)),
    ColumnSpec("variable_type", ("VariableType",)),
    ColumnSpec("variable_a", ("VariableA",)),
    ColumnSpec("variable_b", ("VariableB",)),
)

# The measures the benchmark uses: normalised name (the 2024-25 column in snake_case) and the
# published names, 2024-25 first, then 2019-20. `improvement` is reliable improvement.
ANNUAL_MEASURES = (
    ColumnSpec("count_referrals_received", ("Count_ReferralsReceived", "CountReferralsReceived")),
    ColumnSpec("count_accessing_services", ("Count_AccessingServices", "CountFirstTreatment")),
    ColumnSpec(
        "count_finished_course_treatment",
        ("Count_FinishedCourseTreatment", "CountFinishedCourseTreatment"),
    ),
    ColumnSpec("count_at_caseness", ("Count_AtCaseness", "CountAtCaseness")),
    ColumnSpec("count_not_at_caseness", ("Count_NotAtCaseness", "CountNotAtCaseness")),
    ColumnSpec("count_improvement", ("Count_Improvement", "CountImprovement")),
    ColumnSpec("percentage_improvement", ("Percentage_Improvement", "PercentageImprovement")),
    ColumnSpec("count_recovery", ("Count_Recovery", "CountRecovery")),
    ColumnSpec("percentage_recovery", ("Percentage_Recovery", "PercentageRecovery")),
    ColumnSpec("count_reliable_recovery", ("Count_ReliableRecovery", "CountReliableRecovery")),
    ColumnSpec(
        "percentage_reliable_recovery",
        ("Percentage_ReliableRecovery", "PercentageReliableRecovery"),
    ),
    ColumnSpec(
        "mean_wait_accessing_services", ("Mean_WaitAccessingServices", "MeanWaitEnteredTreatment")
    ),
    ColumnSpec(
        "mean_wait_finished_course_treatment",
        ("Mean_WaitFinishedCourseTreatment", "MeanWaitFinishedCourseTreatment"),
    ),
)

ORG_TYPES = ("England", "Commissioning Region", "STP", "CCG", "ICB", "Provider")
NOT_APPLICABLE = frozenset({"NULL", "N/A"})
FINANCIAL_YEAR = re.compile(r"(?<!\d)(20\d{2})-(\d{2})(?!\d)")

ANNUAL_SCHEMA = pa.schema(
    [
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("org_type", pa.string()),
        ("org_code", pa.string()),
        ("org_name", pa.string()),
        ("variable_type", pa.string()),
        ("variable_a", pa.string()),
        ("variable_b", pa.string()),
        ("measure_name", pa.string()),
        ("value", pa.float64()),
        ("is_suppressed", pa.bool_()),
    ]
)
UNKNOWN_ORGS_SCHEMA = pa.schema([("org_type", pa.string()), ("row_count", pa.int64())])


def financial_year_bounds(year: str, location: str) -> tuple[date, date]:
    """'2024-25' is 1 April 2024 to 31 March 2025."""
    match = FINANCIAL_YEAR.fullmatch(year.strip())
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise ReaderError(location, f"{year!r} is not a financial year like '2024-25'")
    start = int(match.group(1))
    return date(start, 4, 1), date(start + 1, 3, 31)


def year_of_vintage(vintage: str) -> str:
    """The financial year a March vintage ends (the landing zone's `2025-03` is '2024-25')."""
    year, month = (int(x) for x in vintage.split("-"))
    if month != 3:
        raise ValueError(f"an annual Talking Therapies vintage ends in March, not {vintage}")
    return f"{year - 1}-{year % 100:02d}"


def _year_from_name(path: Path) -> str | None:
    for match in FINANCIAL_YEAR.finditer(path.name):
        if (int(match.group(1)) + 1) % 100 == int(match.group(2)):
            return match.group(0)
    return None


def _annual_value(
    text: str | None, location: str, column: str, row: int
) -> tuple[float | None, bool]:
    if text is None or text.upper() in NOT_APPLICABLE:
        return None, False
    return _parse_value(text, location, column, row)


def read_annual(path: Path, year: str | None = None) -> ReadResult:
    """The annual main CSV as a long `measures` table of the measures the benchmark uses.

    `year` is the financial year ('2024-25'); by default it is read from the file name (the
    publisher's names carry it, e.g. `psych-ther-ann-rep-csv-2024-25-main2.csv`). When both are
    given they must agree.
    """
    named = _year_from_name(path)
    if year is not None and named is not None and year != named:
        raise ReaderError(path, f"year {year!r} given, but the file name says {named!r}")
    chosen = year or named
    if chosen is None:
        raise ReaderError(path, "no financial year ('2024-25') in the file name; pass year=")
    start, end = financial_year_bounds(chosen, str(path))

    table = read_csv_table(
        path, ANNUAL_ID_COLUMNS + ANNUAL_MEASURES, member_pattern=r"main.*\.csv$"
    )
    cols = table.columns
    location = table.location
    org_types = cols["org_type"]
    unknown = Counter(t or "" for t in org_types if t not in ORG_TYPES)
    keep = [i for i, t in enumerate(org_types) if t in ORG_TYPES]
    if not keep:
        raise ReaderError(
            location, f"no rows of a known OrgType ({', '.join(ORG_TYPES)}); saw {dict(unknown)}"
        )

    published = {spec.name: table.header[table.positions[spec.name]] for spec in ANNUAL_MEASURES}
    data: dict[str, list] = {name: [] for name in ANNUAL_SCHEMA.names}
    for i in keep:  # one wide row becomes one long row per measure, in the file's order
        for spec in ANNUAL_MEASURES:
            value, is_suppressed = _annual_value(
                cols[spec.name][i], location, published[spec.name], i + 2
            )
            for id_spec in ANNUAL_ID_COLUMNS:
                text = cols[id_spec.name][i]
                # VariableA/B of a `Total` row are written `NULL` (not applicable): a missing value.
                is_marker = id_spec.name.startswith("variable_") and text in NOT_APPLICABLE
                data[id_spec.name].append(None if is_marker else text)
            data["measure_name"].append(spec.name)
            data["value"].append(value)
            data["is_suppressed"].append(is_suppressed)
    n = len(data["measure_name"])
    data["period_start"] = [start] * n
    data["period_end"] = [end] * n
    uses_underscore = table.header[table.positions["count_referrals_received"]].startswith("Count_")
    unknown_table = pa.table(
        {"org_type": sorted(unknown), "row_count": [unknown[t] for t in sorted(unknown)]},
        schema=UNKNOWN_ORGS_SCHEMA,
    )
    return ReadResult(
        source=SOURCE,
        product="annual",
        schema_version="count_underscore_names" if uses_underscore else "count_joined_names",
        tables={
            "measures": pa.table(data, schema=ANNUAL_SCHEMA),
            "unknown_org_types": unknown_table,
        },
        period=end.strftime("%Y-%m"),
        mapped_columns=table.mapped,
    )
