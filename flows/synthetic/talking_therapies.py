"""NHS Talking Therapies files in the publisher's exact formats, for a sample with no raw copy.

Two different things live here, and the landing manifest must say which is which:

1. `rebuild_annual_main` - REBUILT, not synthetic. It re-serialises the REAL annual figures of the
   tidied `measures_annual.parquet` (bennettoxford/nhstt, from NHS England's annual report) into
   the annual "main" CSV, column for column under the publisher's real 2024-25 header. Rows: for
   England and every ICB, the `Total` row and then every `Waiting Time` breakdown row the parquet
   has for that organisation, with the publisher's own VariableA / VariableB labels verbatim (in
   2024-25: `Accessing services` and `First to Second treatment`, each by `<=28 days`,
   `29-56 days`, `57-90 days`, `>90 days`, `<6 weeks`, `<18 weeks` and `Mean wait`, then
   `No second treatment appointment` / `NULL`), in the parquet's order. Only the 14 measure
   columns the parquet carries are filled (referrals, finished a course, at / not at caseness,
   reliable improvement, no reliable change, deterioration, recovery, reliable recovery; counts
   and percentages): the nhstt package keeps no others, so the other 30 measure columns
   (`Count_AccessingServices` and the mean waits among them) are left BLANK - the publisher had
   a value there that we do not have. (The publisher's own marker for "not applicable to this
   breakdown" is the text `NULL`, which the parquet keeps verbatim, e.g. in VariableA /
   VariableB of `Total` rows and in the measures of `Waiting Time` rows (all but
   Count_FinishedCourseTreatment, and that one too in `Mean wait` rows); it is written where the
   parquet has it and never used for the blank columns, which apply but are not carried.)
   Values are the parquet's own strings, unchanged (`1813432`, `50.5`, `44`, `NULL`).

2. `generate_monthly` - SYNTHETIC. A seeded generator of monthly activity_performance CSVs in the
   published schema (10 columns, ISO dates, LF line ends, minimal quoting, no comment lines).
   Assumptions, all of them:
   - Calibration is real: `calibration/england_monthly.csv` (the publisher's England figures,
     Jan 2021 - Mar 2026, for the 12 key measures), `calibration/sub_icbs.csv` (the 106 real
     sub-ICB locations with their registered patients, Mar 2026) and `calibration/providers.csv`
     (real NHS TT providers, their ICB, and their real share of England referrals over the last
     12 months of the calibration series). See `calibration/PROVENANCE.md`.
   - Only the 12 key measures are written (M001, M031, M052-M055, M076, M179, M185, M186, M191,
     M192) with the publisher's MEASURE_ID and MEASURE_NAME; real files carry about 217.
   - Rows: England (ORG_CODE1/ORG_NAME1/ORG_CODE2/ORG_NAME2 = `all`/`all SubICBs`/`all`/
     `all Providers`, as published), one `SubICB` row set per requested sub-ICB (ORG_CODE1/NAME1
     the sub-ICB code and its name as in the registrations map, e.g. `NHS Cornwall and the Isles
     of Scilly ICB - 11N`; ORG_CODE2/NAME2 `all`/`all Providers` - inferred from the England and
     Provider rows, no real SubICB row is available here), and one `Provider` row set for each
     real provider whose ICB is the ICB of a requested sub-ICB (`all`/`all SubICBs`/code/name, as
     published). No CommissioningRegion or SubICB/Provider rows. Rows are ordered England, SubICB
     by code, Provider by code, then MEASURE_ID.
   - The base month: the real England figures of that month, or, after the calibration series
     ends, of the same calendar month in its last year (seasonality kept, no trend).
   - England counts = base x exp(N(0, 0.02)) per measure step; a sub-ICB's referrals = England
     referrals x its share of registered patients x exp(N(0, 0.15)); a provider's = England
     referrals x its real referral share x exp(N(0, 0.10)). Each later step is drawn as a
     proportion of the step before it, centred on England's proportion that month: accessing /
     referrals, finished / accessing, not at caseness / finished, improvement / finished,
     recovery / (finished - not at caseness), waited <= 18 weeks / finished, <= 6 weeks / <= 18
     weeks (logit-normal noise, sd 0.15 below England, 0.02 at England).
   - Percentages: M053 = M052 / M076, M055 = M054 / M076, M186 = M185 / M076, M192 = M191 /
     (M076 - M179), as in the publisher's definitions; England to one decimal, below England
     whole numbers, computed from the unrounded counts.
   - Disclosure control below England: a count below 5 is published as `*`, any other count is
     rounded to the nearest multiple of 5; a percentage is `*` when its numerator count is
     (the pattern of the real provider rows). England is never suppressed or rounded.
   - Deterministic: every row set draws from its own `random.Random` seeded with the text
     `"{seed}|{month}|{group}|{code}"` (Python's string seeding is stable across versions), so a
     seed gives byte-identical files whatever else is requested.
   - File names are the publisher's: `nhstalkingtherapies_month_<mon>_<yyyy>_activity_
     performance.csv`. The files say nothing about being synthetic (the schema has no place for
     it): record "status": "synthetic" in the landing manifest.

Maintainer commands:
    python -m flows.synthetic.talking_therapies calibrate --real-dir ../shared/data/real
    python -m flows.synthetic.talking_therapies rebuild-annual --parquet P --header H --out F \
        [--extract E]
    (the bundled sample's copy, with its manifest, is written by `python -m flows.build_sample`;
    the exact commands for every copy are in tests/fixtures/talking_therapies/PROVENANCE.md)
    python -m flows.synthetic.talking_therapies generate-monthly --seed 1 --months 2026-04 \
        [--sub-icbs 11N M2L0M] --out-dir DIR
"""

from __future__ import annotations

import argparse
import calendar
import csv
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CALIBRATION = Path(__file__).resolve().parent / "calibration"

# Default sub-ICBs: those of the two fixture ICBs (QT6 Cornwall and the Isles of Scilly, QOC
# Shropshire, Telford and Wrekin), so synthetic monthly files line up with the test fixtures.
DEFAULT_SUB_ICBS = ("11N", "M2L0M")

MONTHLY_HEADER = (
    "REPORTING_PERIOD_START",
    "REPORTING_PERIOD_END",
    "GROUP_TYPE",
    "ORG_CODE1",
    "ORG_NAME1",
    "ORG_CODE2",
    "ORG_NAME2",
    "MEASURE_ID",
    "MEASURE_NAME",
    "MEASURE_VALUE_SUPPRESSED",
)
KEY_MEASURES = (
    "M001",
    "M031",
    "M052",
    "M053",
    "M054",
    "M055",
    "M076",
    "M179",
    "M185",
    "M186",
    "M191",
    "M192",
)
PERCENTAGES = {"M053", "M055", "M186", "M192"}
MONTH_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# The annual parquet's tidied (measure_name, measure_statistic) and the publisher's column.
ANNUAL_PARQUET_COLUMNS = {
    ("referrals_received", "count"): "Count_ReferralsReceived",
    ("finished_course_treatment", "count"): "Count_FinishedCourseTreatment",
    ("at_caseness", "count"): "Count_AtCaseness",
    ("not_at_caseness", "count"): "Count_NotAtCaseness",
    ("improvement", "count"): "Count_Improvement",
    ("improvement", "percentage"): "Percentage_Improvement",
    ("no_reliable_change", "count"): "Count_NoReliableChange",
    ("no_reliable_change", "percentage"): "Percentage_NoReliableChange",
    ("deterioration", "count"): "Count_Deterioration",
    ("deterioration", "percentage"): "Percentage_Deterioration",
    ("recovery", "count"): "Count_Recovery",
    ("recovery", "percentage"): "Percentage_Recovery",
    ("reliable_recovery", "count"): "Count_ReliableRecovery",
    ("reliable_recovery", "percentage"): "Percentage_ReliableRecovery",
}
ANNUAL_EXTRACT_COLUMNS = (
    "reporting_period",
    "start_date",
    "end_date",
    "org_type",
    "org_code",
    "org_name",
    "variable_type",
    "variable_a",
    "variable_b",
    "measure_name",
    "measure_statistic",
    "value",
)
REBUILT_ORG_TYPES = ("England", "ICB")
# The breakdowns rebuilt, in the order written for each organisation (`Total` first).
REBUILT_VARIABLE_TYPES = ("Total", "Waiting Time")


# ---------------------------------------------------------------------------------------------
# Rebuilt annual main CSV (real figures)
# ---------------------------------------------------------------------------------------------


def annual_rows(parquet_path: Path, year: str) -> list[dict[str, str]]:
    """The parquet's England and ICB `Total` and `Waiting Time` rows of one year, as strings.

    Ordered by organisation type, organisation code and breakdown (`Total`, then `Waiting
    Time`); within a breakdown the parquet's own order, which is the publisher's row order.
    """
    table = pq.read_table(parquet_path, columns=list(ANNUAL_EXTRACT_COLUMNS))
    mask = pc.and_(
        pc.and_(
            pc.equal(table["reporting_period"], year),
            pc.is_in(table["variable_type"], value_set=pa.array(REBUILT_VARIABLE_TYPES)),
        ),
        pc.is_in(table["org_type"], value_set=pa.array(REBUILT_ORG_TYPES)),
    )
    rows = table.filter(mask).to_pylist()
    if not any(row["variable_type"] == "Total" for row in rows):
        raise ValueError(f"{parquet_path}: no England/ICB Total rows for {year}")
    out = [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    out.sort(key=_annual_row_order)  # stable: ties keep the parquet's order
    return out


def _annual_row_order(row: dict[str, str]) -> tuple:
    return (
        REBUILT_ORG_TYPES.index(row["org_type"]),
        row["org_code"],
        REBUILT_VARIABLE_TYPES.index(row["variable_type"]),
    )


def write_annual_extract(parquet_path: Path, year: str, out_path: Path) -> Path:
    """A DERIVED CSV of the rows `rebuild_annual_main` uses (test fixture, provenance)."""
    rows = annual_rows(parquet_path, year)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ANNUAL_EXTRACT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return out_path


def _first_line(raw: bytes) -> tuple[bytes, str]:
    end = raw.find(b"\n")
    if end < 0:
        raise ValueError("the header file has no line end")
    line = raw[: end + 1]
    return line, "\r\n" if line.endswith(b"\r\n") else "\n"


def rebuild_annual_main(
    parquet_path: Path, header_csv: Path, out_path: Path, year: str = "2024-25"
) -> Path:
    """Write the annual main CSV of `year` in the publisher's wide format from real figures.

    For England and each ICB its `Total` row, then its `Waiting Time` rows (see `annual_rows`),
    under the real header of `header_csv` (its first line, byte for byte); its line end is used
    for every row.
    """
    header_line, eol = _first_line(Path(header_csv).read_bytes())
    text = header_line.decode("utf-8-sig")
    header = next(csv.reader([text.rstrip("\r\n")]))
    missing = sorted(set(ANNUAL_PARQUET_COLUMNS.values()) - set(header))
    if missing:
        raise ValueError(f"{header_csv}: header lacks the column(s) {missing}")
    ids = ("OrgType", "OrgCode", "OrgName", "VariableType", "VariableA", "VariableB")
    if tuple(header[:6]) != ids:
        raise ValueError(f"{header_csv}: expected the header to start with {ids}")

    wide: dict[tuple[str, ...], dict[str, str]] = {}
    for row in annual_rows(Path(parquet_path), year):
        key = (
            row["org_type"],
            row["org_code"],
            row["org_name"],
            row["variable_type"],
            row["variable_a"],
            row["variable_b"],
        )
        column = ANNUAL_PARQUET_COLUMNS.get((row["measure_name"], row["measure_statistic"]))
        if column is None:
            raise ValueError(
                f"{parquet_path}: no published column known for "
                f"{row['measure_name']} ({row['measure_statistic']})"
            )
        cells = wide.setdefault(key, {})
        if column in cells:
            raise ValueError(f"{parquet_path}: two values of {column} for {key}")
        cells[column] = row["value"]

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=eol)
    # organisations in order; within one, the rows in the order `annual_rows` gives them
    for key in sorted(wide, key=lambda k: (REBUILT_ORG_TYPES.index(k[0]), k[1])):
        cells = wide[key]
        writer.writerow([*key, *(cells.get(column, "") for column in header[6:])])
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(header_line + buffer.getvalue().encode("utf-8"))
    return out


# ---------------------------------------------------------------------------------------------
# Calibration (maintainer step: copies real figures into calibration/*.csv)
# ---------------------------------------------------------------------------------------------


def extract_calibration(real_dir: Path, out_dir: Path = CALIBRATION) -> list[Path]:
    """Copy the real calibration figures out of the real corpus (run by a maintainer only)."""
    import duckdb

    tt = real_dir / "talking_therapies" / "nhstt_parquet"
    reg = real_dir / "patients_registered"
    monthly = tt / "activity_performance_monthly.parquet"
    ids = ", ".join(f"'{m}'" for m in KEY_MEASURES)
    con = duckdb.connect()
    england = con.execute(
        f"""
        select a.reporting_period, a.measure_id, d.measure_name, a.value
        from read_parquet('{monthly}') a
        join read_parquet('{tt / "metadata_measures_monthly.parquet"}') d using (measure_id)
        where a.group_type = 'England' and a.measure_id in ({ids})
        order by 1, 2
        """
    ).fetchall()
    sub_icbs = con.execute(
        f"""
        with pop as (
            select SUB_ICB_LOCATION_CODE as code, sum(NUMBER_OF_PATIENTS) as patients,
                   any_value(EXTRACT_DATE) as extract_date
            from read_csv('{reg / "2026-02_renamed" / "PracPopFeb26.csv"}', all_varchar=true,
                          types={{'NUMBER_OF_PATIENTS': 'BIGINT'}})
            where SEX = 'ALL' and AGE = 'ALL' group by 1
        ), names as (
            select distinct SUB_ICB_LOCATION_CODE as code, SUB_ICB_LOCATION_NAME as name, ICB_CODE
            from read_csv('{reg / "2026-01" / "gp-reg-pat-prac-map.csv"}', all_varchar=true)
        )
        select code, name, ICB_CODE, patients, extract_date
        from pop join names using (code) order by code
        """
    ).fetchall()
    last12 = con.execute(
        f"""select distinct reporting_period from read_parquet('{monthly}')
            order by 1 desc limit 12"""
    ).fetchall()
    months = ", ".join(f"'{m[0]}'" for m in last12)
    providers = con.execute(
        f"""
        with referrals as (
            select org_code2 as code, arg_max(org_name2, reporting_period) as name,
                   sum(coalesce(value, 0)) as n
            from read_parquet('{monthly}')
            where group_type = 'Provider' and measure_id = 'M001'
              and reporting_period in ({months})
            group by 1
        ), england as (
            select sum(value) as n from read_parquet('{monthly}')
            where group_type = 'England' and measure_id = 'M001'
              and reporting_period in ({months})
        )
        select r.code, r.name, p.icb_code, round(r.n / e.n, 8)
        from referrals r cross join england e
        join read_parquet('{tt / "metadata_providers.parquet"}') p on p.org_code = r.code
        where r.n > 0 order by 1
        """
    ).fetchall()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        _write_csv(
            out_dir / "england_monthly.csv",
            ("reporting_period", "measure_id", "measure_name", "value"),
            [(p, m, n, _number_text(v, m in PERCENTAGES)) for p, m, n, v in england],
        ),
        _write_csv(
            out_dir / "sub_icbs.csv",
            ("sub_icb_code", "sub_icb_name", "icb_code", "registered_patients", "extract_date"),
            sub_icbs,
        ),
        _write_csv(
            out_dir / "providers.csv",
            ("provider_code", "provider_name", "icb_code", "referral_share"),
            providers,
        ),
    ]
    return written


def _number_text(value: float, percentage: bool) -> str:
    return f"{value:.1f}" if percentage else str(round(value))


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


# ---------------------------------------------------------------------------------------------
# Seeded monthly generator (synthetic)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    england: dict[str, dict[str, float]]  # month -> measure_id -> real England value
    measure_names: dict[str, str]  # measure_id -> publisher's MEASURE_NAME
    sub_icbs: dict[str, dict[str, str]]  # code -> row of sub_icbs.csv
    england_patients: int
    providers: list[dict[str, str]]


def load_calibration(folder: Path = CALIBRATION) -> Calibration:
    def rows(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    england: dict[str, dict[str, float]] = {}
    names: dict[str, str] = {}
    for row in rows("england_monthly.csv"):
        england.setdefault(row["reporting_period"], {})[row["measure_id"]] = float(row["value"])
        names[row["measure_id"]] = row["measure_name"]
    sub_icbs = {row["sub_icb_code"]: row for row in rows("sub_icbs.csv")}
    patients = sum(int(row["registered_patients"]) for row in sub_icbs.values())
    return Calibration(england, names, sub_icbs, patients, rows("providers.csv"))


def base_month(calibration: Calibration, month: str) -> str:
    """The real month whose England figures a synthetic month is drawn around."""
    if month in calibration.england:
        return month
    last = max(calibration.england)
    if month < min(calibration.england):
        raise ValueError(f"{month} is before the calibration series ({min(calibration.england)})")
    return max(m for m in calibration.england if m[5:] == month[5:] and m <= last)


def _logit_noise(rng: random.Random, p: float, sd: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    x = math.log(p / (1 - p)) + rng.gauss(0.0, sd)
    return 1 / (1 + math.exp(-x))


def _true_counts(
    rng: random.Random, england: dict[str, float], referrals: float, sd: float
) -> dict[str, int]:
    """Unrounded counts of one organisation, each step a proportion of the step before."""

    def step(n: float, num: str, den: float) -> float:
        return n * _logit_noise(rng, england[num] / den, sd)

    c: dict[str, float] = {"M001": referrals}
    c["M031"] = step(c["M001"], "M031", england["M001"])
    c["M076"] = step(c["M031"], "M076", england["M031"])
    c["M179"] = step(c["M076"], "M179", england["M076"])
    c["M185"] = step(c["M076"], "M185", england["M076"])
    c["M191"] = step(c["M076"] - c["M179"], "M191", england["M076"] - england["M179"])
    c["M054"] = step(c["M076"], "M054", england["M076"])
    c["M052"] = step(c["M054"], "M052", england["M054"])
    return {k: round(v) for k, v in c.items()}


def _percentages(c: dict[str, int]) -> dict[str, float | None]:
    def pct(num: int, den: int) -> float | None:
        return None if den <= 0 else 100.0 * num / den

    return {
        "M053": pct(c["M052"], c["M076"]),
        "M055": pct(c["M054"], c["M076"]),
        "M186": pct(c["M185"], c["M076"]),
        "M192": pct(c["M191"], c["M076"] - c["M179"]),
    }


NUMERATOR = {"M053": "M052", "M055": "M054", "M186": "M185", "M192": "M191"}


def _published(counts: dict[str, int], england_level: bool) -> dict[str, str]:
    """The cells as published: England exact; below England `*` under 5, else nearest 5."""
    pcts = _percentages(counts)
    cells: dict[str, str] = {}
    for measure in KEY_MEASURES:
        if measure in PERCENTAGES:
            value = pcts[measure]
            small = counts[NUMERATOR[measure]] < 5
            if value is None or (small and not england_level):
                cells[measure] = "*"
            else:
                cells[measure] = f"{value:.1f}" if england_level else str(math.floor(value + 0.5))
        elif england_level:
            cells[measure] = str(counts[measure])
        elif counts[measure] < 5:
            cells[measure] = "*"
        else:
            cells[measure] = str(5 * math.floor(counts[measure] / 5 + 0.5))
    return cells


def monthly_file_name(month: str) -> str:
    year, mon = month.split("-")
    return f"nhstalkingtherapies_month_{MONTH_ABBR[int(mon) - 1]}_{year}_activity_performance.csv"


def _month_bounds(month: str) -> tuple[str, str]:
    year, mon = (int(x) for x in month.split("-"))
    last = calendar.monthrange(year, mon)[1]
    return f"{year:04d}-{mon:02d}-01", f"{year:04d}-{mon:02d}-{last:02d}"


def monthly_rows(
    seed: int, month: str, sub_icbs: Sequence[str], calibration: Calibration
) -> list[list[str]]:
    """All rows of one synthetic month (without the header), in the file's order."""
    unknown = [code for code in sub_icbs if code not in calibration.sub_icbs]
    if unknown:
        raise ValueError(f"not real sub-ICB codes in calibration/sub_icbs.csv: {unknown}")
    base = calibration.england[base_month(calibration, month)]
    start, end = _month_bounds(month)
    names = calibration.measure_names
    rows: list[list[str]] = []

    def emit(group: str, org: tuple[str, str, str, str], cells: dict[str, str]) -> None:
        for measure in KEY_MEASURES:
            rows.append([start, end, group, *org, measure, names[measure], cells[measure]])

    def rng(group: str, code: str) -> random.Random:
        return random.Random(f"{seed}|{month}|{group}|{code}")

    r = rng("England", "all")
    england_counts = _true_counts(r, base, base["M001"] * math.exp(r.gauss(0.0, 0.02)), 0.02)
    emit(
        "England", ("all", "all SubICBs", "all", "all Providers"), _published(england_counts, True)
    )
    # Sub-ICBs and providers are drawn around the synthetic England month, so they stay coherent.
    england = {k: float(v) for k, v in england_counts.items()}
    icbs = set()
    for code in sorted(set(sub_icbs)):
        row = calibration.sub_icbs[code]
        icbs.add(row["icb_code"])
        share = int(row["registered_patients"]) / calibration.england_patients
        r = rng("SubICB", code)
        counts = _true_counts(
            r, england, england["M001"] * share * math.exp(r.gauss(0, 0.15)), 0.15
        )
        emit(
            "SubICB", (code, row["sub_icb_name"], "all", "all Providers"), _published(counts, False)
        )
    providers = sorted(
        (p for p in calibration.providers if p["icb_code"] in icbs),
        key=lambda p: p["provider_code"],
    )
    for provider in providers:
        code = provider["provider_code"]
        r = rng("Provider", code)
        share = float(provider["referral_share"])
        counts = _true_counts(
            r, england, england["M001"] * share * math.exp(r.gauss(0, 0.10)), 0.15
        )
        org = ("all", "all SubICBs", code, provider["provider_name"])
        emit("Provider", org, _published(counts, False))
    return rows


def generate_monthly(
    seed: int,
    months: Sequence[str],
    sub_icbs: Sequence[str] | None = None,
    out_dir: Path = Path("."),
    calibration: Calibration | None = None,
) -> list[Path]:
    """Write one synthetic activity_performance CSV per month into `out_dir`; return the paths."""
    calibration = calibration or load_calibration()
    chosen = tuple(sub_icbs) if sub_icbs else DEFAULT_SUB_ICBS
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for month in sorted(set(months)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(MONTHLY_HEADER)
        writer.writerows(monthly_rows(seed, month, chosen, calibration))
        path = out / monthly_file_name(month)
        path.write_bytes(buffer.getvalue().encode("utf-8"))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.synthetic.talking_therapies")
    commands = parser.add_subparsers(dest="command", required=True)
    cal = commands.add_parser("calibrate", help="copy real calibration figures (maintainers)")
    cal.add_argument("--real-dir", type=Path, required=True)
    cal.add_argument("--out-dir", type=Path, default=CALIBRATION)
    reb = commands.add_parser("rebuild-annual", help="annual main CSV from the real parquet")
    reb.add_argument("--parquet", type=Path, required=True)
    reb.add_argument("--header", type=Path, required=True)
    reb.add_argument("--year", default="2024-25")
    reb.add_argument("--out", type=Path, required=True)
    reb.add_argument("--extract", type=Path, help="also write the DERIVED extract CSV here")
    gen = commands.add_parser("generate-monthly", help="seeded synthetic monthly CSVs")
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--months", nargs="+", required=True, help="YYYY-MM ...")
    gen.add_argument("--sub-icbs", nargs="*", default=None, help="real sub-ICB codes")
    gen.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "calibrate":
        paths = extract_calibration(args.real_dir, args.out_dir)
    elif args.command == "rebuild-annual":
        paths = [rebuild_annual_main(args.parquet, args.header, args.out, args.year)]
        if args.extract:
            paths.append(write_annual_extract(args.parquet, args.year, args.extract))
    else:
        paths = generate_monthly(args.seed, args.months, args.sub_icbs, args.out_dir)
    for path in paths:
        print(f"{path}\t{path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
