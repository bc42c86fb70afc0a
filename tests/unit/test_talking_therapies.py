"""NHS Talking Therapies: both readers on the real heads and headers, the rebuilt annual file
against the real figures it came from, and the seeded monthly generator.

Expected values are computed here from the raw bytes (csv module), never from the reader.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.sources import talking_therapies as tt
from flows.sources.base import ReaderError
from flows.synthetic import talking_therapies as synth
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.unit

TT = FIXTURES / "talking_therapies"
MAY_2023 = TT / "2023-05.csv"  # DD/MM/YYYY dates
JUN_2025 = TT / "2025-06.csv"  # ISO dates, a `-` marker
SEP_2025 = TT / "2025-09.csv"  # ISO dates, a `*` marker, the package authors' synthetic ABC row
ANNUAL_1920 = TT / "2019-20.csv"  # real header, synthetic data rows
ANNUAL_2425 = TT / "2024-25.csv"  # real header, synthetic data rows
REBUILT = TT / "psych-ther-ann-rep-csv-2024-25-main2.csv"
EXTRACT = TT / "DERIVED_measures_annual_2024-25_england_icb_total_waiting_time.csv"
CALIBRATION = ROOT / "flows" / "synthetic" / "calibration"
REAL_TT = ROOT.parent / "shared" / "data" / "real" / "talking_therapies"


def raw_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def first_line(path: Path) -> bytes:
    raw = path.read_bytes()
    return raw[: raw.index(b"\n") + 1]


# --- monthly -----------------------------------------------------------------------------------


def test_monthly_2023_reads_day_month_year_dates():
    rows = raw_rows(MAY_2023)
    result = tt.read_monthly(MAY_2023)
    table = result.tables["measures"].to_pydict()
    assert result.schema_version == "measure_value_suppressed+dmy_dates"
    assert result.period == "2023-05"
    assert set(table["period_start"]) == {date(2023, 5, 1)}
    assert set(table["period_end"]) == {date(2023, 5, 31)}
    assert table["measure_id"] == [r["MEASURE_ID"] for r in rows]
    assert table["value"] == [float(r["MEASURE_VALUE_SUPPRESSED"]) for r in rows]
    assert not any(table["is_suppressed"])
    assert table["value"][0] == 146659  # M001 referrals received, England, May 2023


def test_monthly_2025_reads_iso_dates_and_the_dash_marker():
    rows = raw_rows(JUN_2025)
    result = tt.read_monthly(JUN_2025)
    table = result.tables["measures"].to_pydict()
    assert result.schema_version == "measure_value_suppressed+iso_dates"
    assert result.period == "2025-06"
    assert set(table["period_end"]) == {date(2025, 6, 30)}
    marked = [r["MEASURE_VALUE_SUPPRESSED"] in ("*", "-") for r in rows]
    assert marked.count(True) == 1
    assert table["is_suppressed"] == marked
    for value, raw, is_marked in zip(table["value"], rows, marked, strict=True):
        assert value == (None if is_marked else float(raw["MEASURE_VALUE_SUPPRESSED"]))


def test_monthly_synthetic_abc_row_is_counted_and_never_read_as_england_data():
    rows = raw_rows(SEP_2025)
    england = [r for r in rows if r["GROUP_TYPE"] == "England"]
    result = tt.read_monthly(SEP_2025)
    table = result.tables["measures"].to_pydict()
    assert len(rows) == 6 and len(england) == 5
    assert result.tables["unknown_group_types"].to_pylist() == [
        {"group_type": "ABC", "row_count": 1}
    ]
    assert len(table["measure_id"]) == len(england)
    assert "ABC" not in table["measure_id"] + table["org_code1"] + table["org_code2"]
    assert set(table["group_type"]) == {"England"}
    assert set(zip(table["org_code1"], table["org_code2"], strict=True)) == {("all", "all")}
    star = [r["MEASURE_VALUE_SUPPRESSED"] == "*" for r in england]
    assert table["is_suppressed"] == star


def test_monthly_march_2021_value_column(tmp_path: Path):
    # March 2021 is the one month published with MEASURE_VALUE; only the header differs.
    text = MAY_2023.read_bytes().decode("utf-8")
    march = tmp_path / "march_2021_activity_performance.csv"
    march.write_bytes(text.replace(",MEASURE_VALUE_SUPPRESSED\n", ",MEASURE_VALUE\n", 1).encode())
    result = tt.read_monthly(march)
    assert result.schema_version == "measure_value+dmy_dates"
    assert result.mapped_columns["value"] == "MEASURE_VALUE"
    assert result.tables["measures"].column("value").to_pylist() == [
        float(r["MEASURE_VALUE_SUPPRESSED"]) for r in raw_rows(MAY_2023)
    ]


def _with_rows(tmp_path: Path, source: Path, extra: list[str]) -> Path:
    out = tmp_path / source.name
    out.write_bytes(source.read_bytes() + "".join(line + "\n" for line in extra).encode())
    return out


def test_monthly_unknown_group_types_are_counted_and_left_out(tmp_path: Path):
    start, end = "2025-06-01", "2025-06-30"
    extra = [
        f"{start},{end},CCG,00L,NHS X CCG,all,all Providers,M001,Count_ReferralsReceived,35",
        f"{start},{end},CCG,00N,NHS Y CCG,all,all Providers,M001,Count_ReferralsReceived,*",
        f"{start},{end},STP,QHM,NHS Z STP,all,all Providers,M001,Count_ReferralsReceived,70",
        f"{start},{end},SubICB,11N,NHS Cornwall and the Isles of Scilly ICB - 11N,all,"
        "all Providers,M001,Count_ReferralsReceived,1480",
        f"{start},{end},Provider,all,all SubICBs,RJ8,CORNWALL PARTNERSHIP NHS FOUNDATION TRUST,"
        "M001,Count_ReferralsReceived,1005",
    ]
    result = tt.read_monthly(_with_rows(tmp_path, JUN_2025, extra))
    table = result.tables["measures"].to_pydict()
    assert result.tables["unknown_group_types"].to_pylist() == [
        {"group_type": "CCG", "row_count": 2},
        {"group_type": "STP", "row_count": 1},
    ]
    assert len(table["group_type"]) == len(raw_rows(JUN_2025)) + 2
    assert table["org_code1"][-2:] == ["11N", "all"]
    assert table["org_code2"][-2:] == ["all", "RJ8"]
    assert table["value"][-2:] == [1480.0, 1005.0]


def test_monthly_bad_value_names_file_row_and_column(tmp_path: Path):
    lines = MAY_2023.read_bytes().decode().splitlines(keepends=True)
    lines[2] = lines[2].replace(",103825", ",lots")
    broken = tmp_path / "2023-05.csv"
    broken.write_text("".join(lines))
    with pytest.raises(ReaderError, match=r"2023-05\.csv: row 3, column MEASURE_VALUE_SUPPRESSED"):
        tt.read_monthly(broken)


def test_monthly_mixed_date_styles_name_the_row(tmp_path: Path):
    lines = JUN_2025.read_bytes().decode().splitlines(keepends=True)
    lines[4] = lines[4].replace("2025-06-01", "01/06/2025", 1)
    broken = tmp_path / "2025-06.csv"
    broken.write_text("".join(lines))
    with pytest.raises(ReaderError, match=r"row 5, column REPORTING_PERIOD_START"):
        tt.read_monthly(broken)


def test_monthly_england_row_with_an_org_code_is_refused(tmp_path: Path):
    broken = _with_rows(
        tmp_path,
        JUN_2025,
        ["2025-06-01,2025-06-30,England,QT6,x,all,all Providers,M001,Count_ReferralsReceived,5"],
    )
    with pytest.raises(ReaderError, match=r"row 7: an England row must have"):
        tt.read_monthly(broken)


def test_monthly_renamed_column_is_named(tmp_path: Path):
    broken = tmp_path / "2025-06.csv"
    broken.write_bytes(JUN_2025.read_bytes().replace(b"GROUP_TYPE", b"GROUP", 1))
    with pytest.raises(ReaderError, match=r"missing column.*GROUP_TYPE"):
        tt.read_monthly(broken)


# --- annual ------------------------------------------------------------------------------------

MEASURE_COLUMNS_2425 = {
    "count_referrals_received": "Count_ReferralsReceived",
    "count_accessing_services": "Count_AccessingServices",
    "count_finished_course_treatment": "Count_FinishedCourseTreatment",
    "count_at_caseness": "Count_AtCaseness",
    "count_not_at_caseness": "Count_NotAtCaseness",
    "count_improvement": "Count_Improvement",
    "percentage_improvement": "Percentage_Improvement",
    "count_recovery": "Count_Recovery",
    "percentage_recovery": "Percentage_Recovery",
    "count_reliable_recovery": "Count_ReliableRecovery",
    "percentage_reliable_recovery": "Percentage_ReliableRecovery",
    "mean_wait_accessing_services": "Mean_WaitAccessingServices",
    "mean_wait_finished_course_treatment": "Mean_WaitFinishedCourseTreatment",
}
RENAMED_SINCE_1920 = {
    "count_accessing_services": "CountFirstTreatment",
    "mean_wait_accessing_services": "MeanWaitEnteredTreatment",
}


def test_annual_2019_20_header_maps_by_name():
    result = tt.read_annual(ANNUAL_1920)
    expected = {
        name: RENAMED_SINCE_1920.get(name, column.replace("_", ""))
        for name, column in MEASURE_COLUMNS_2425.items()
    }
    header = first_line(ANNUAL_1920).decode().strip().split(",")
    assert set(expected.values()) <= set(header)
    assert {k: result.mapped_columns[k] for k in expected} == expected
    assert result.schema_version == "count_joined_names"
    assert result.period == "2020-03"
    table = result.tables["measures"].to_pydict()
    assert set(table["period_start"]) == {date(2019, 4, 1)}
    assert set(table["period_end"]) == {date(2020, 3, 31)}
    rows = raw_rows(ANNUAL_1920)
    assert len(table["value"]) == len(rows) * len(expected)
    provider = [i for i, t in enumerate(table["org_type"]) if t == "Provider"]
    assert all(table["is_suppressed"][i] and table["value"][i] is None for i in provider)
    england = [i for i, t in enumerate(table["org_type"]) if t == "England"]
    first = next(r for r in rows if r["OrgType"] == "England")
    assert [table["value"][i] for i in england] == [float(first[c]) for c in expected.values()]


def test_annual_2024_25_header_and_every_cell_marker():
    result = tt.read_annual(ANNUAL_2425)
    assert result.schema_version == "count_underscore_names"
    assert {k: result.mapped_columns[k] for k in MEASURE_COLUMNS_2425} == MEASURE_COLUMNS_2425
    assert result.tables["unknown_org_types"].to_pylist() == [{"org_type": "ABC", "row_count": 1}]
    table = result.tables["measures"].to_pylist()
    rows = [r for r in raw_rows(ANNUAL_2425) if r["OrgType"] != "ABC"]
    assert len(table) == len(rows) * len(MEASURE_COLUMNS_2425)
    by_key = {(r["org_code"], r["measure_name"]): r for r in table}
    provider = next(r for r in rows if r["OrgType"] == "Provider")
    for name, column in MEASURE_COLUMNS_2425.items():
        cell = by_key[(provider["OrgCode"], name)]
        assert cell["value"] is None
        assert cell["is_suppressed"] == (provider[column] in ("*", "-")), column
    assert {provider[c] for c in MEASURE_COLUMNS_2425.values()} == {"*", "-", "N/A", "NULL"}


def test_annual_year_comes_from_the_name_or_the_argument(tmp_path: Path):
    unnamed = tmp_path / "main.csv"
    unnamed.write_bytes(ANNUAL_1920.read_bytes())
    with pytest.raises(ReaderError, match="no financial year"):
        tt.read_annual(unnamed)
    assert tt.read_annual(unnamed, "2019-20").period == "2020-03"
    with pytest.raises(ReaderError, match="the file name says '2019-20'"):
        tt.read_annual(ANNUAL_1920, "2024-25")
    with pytest.raises(ReaderError, match="not a financial year"):
        tt.read_annual(unnamed, "2019-21")
    assert tt.year_of_vintage("2025-03") == "2024-25"


def test_annual_bad_cell_names_row_and_column(tmp_path: Path):
    lines = ANNUAL_2425.read_bytes().decode().splitlines(keepends=True)
    lines[1] = lines[1].replace("Value 1,10,", "Value 1,ten,", 1)
    broken = tmp_path / "2024-25.csv"
    broken.write_text("".join(lines))
    with pytest.raises(ReaderError, match=r"row 2, column Count_ReferralsReceived: 'ten'"):
        tt.read_annual(broken)


# --- the rebuilt 2024-25 annual main CSV --------------------------------------------------------

PARQUET_TO_READER = {
    ("referrals_received", "count"): "count_referrals_received",
    ("finished_course_treatment", "count"): "count_finished_course_treatment",
    ("at_caseness", "count"): "count_at_caseness",
    ("not_at_caseness", "count"): "count_not_at_caseness",
    ("improvement", "count"): "count_improvement",
    ("improvement", "percentage"): "percentage_improvement",
    ("recovery", "count"): "count_recovery",
    ("recovery", "percentage"): "percentage_recovery",
    ("reliable_recovery", "count"): "count_reliable_recovery",
    ("reliable_recovery", "percentage"): "percentage_reliable_recovery",
}


def test_rebuilt_annual_carries_the_real_icb_figures():
    extract = raw_rows(EXTRACT)
    expected = {
        (
            r["org_code"],
            r["variable_type"],
            r["variable_a"],
            r["variable_b"],
            PARQUET_TO_READER[(r["measure_name"], r["measure_statistic"])],
        ): (None if r["value"] == "NULL" else float(r["value"]))
        for r in extract
        if (r["measure_name"], r["measure_statistic"]) in PARQUET_TO_READER
    }
    result = tt.read_annual(REBUILT)
    table = result.tables["measures"].to_pylist()

    def marker(text: str | None) -> str:
        return "NULL" if text is None else text  # the reader reads VariableA/B `NULL` as missing

    got = {
        (
            r["org_code"],
            r["variable_type"],
            marker(r["variable_a"]),
            marker(r["variable_b"]),
            r["measure_name"],
        ): r["value"]
        for r in table
    }
    assert {k: got[k] for k in expected} == expected
    icbs = {r["org_code"] for r in extract if r["org_type"] == "ICB"}
    assert len(icbs) == 43  # 42 ICBs and the publisher's UNKNOWN row
    assert {r["org_code"] for r in table if r["org_type"] == "ICB"} == icbs
    assert got[("All", "Total", "NULL", "NULL", "count_referrals_received")] == 1813432
    # Measures the parquet does not carry are blank: missing, never zero, never suppressed.
    blank = [r for r in table if r["measure_name"] == "count_accessing_services"]
    assert len(blank) == 44 * 16  # 44 organisations, a Total and 15 Waiting Time rows each
    assert all(r["value"] is None and not r["is_suppressed"] for r in blank)
    assert result.period == "2025-03"


# The publisher's 2024-25 `Waiting Time` rows, in its order (VariableA, VariableB).
WAITING_TIME_ROWS = [
    *(
        (a, b)
        for a in ("Accessing services", "First to Second treatment")
        for b in (
            "<=28 days",
            "29-56 days",
            "57-90 days",
            ">90 days",
            "<6 weeks",
            "<18 weeks",
            "Mean wait",
        )
    ),
    ("No second treatment appointment", "NULL"),
]
WT_BANDS = ("<6 weeks", "<18 weeks")  # the two waits the benchmark uses


def test_rebuilt_annual_carries_the_real_waiting_times_for_england_and_every_icb():
    """2024-25, England: 614,104 of 670,419 finished courses had their first treatment within 6
    weeks (91.6%) and 661,723 within 18 weeks (98.7%); every ICB row carries both counts."""
    rows = raw_rows(REBUILT)
    orgs = [(r["OrgType"], r["OrgCode"]) for r in rows if r["VariableType"] == "Total"]
    assert len(orgs) == 44 and orgs[0] == ("England", "All")
    for org in orgs:
        mine = [r for r in rows if (r["OrgType"], r["OrgCode"]) == org]
        assert [r["VariableType"] for r in mine] == ["Total"] + ["Waiting Time"] * 15, org
        assert [(r["VariableA"], r["VariableB"]) for r in mine[1:]] == WAITING_TIME_ROWS, org

    result = tt.read_annual(REBUILT)
    finished = {
        (r["org_code"], r["variable_type"], r["variable_a"], r["variable_b"]): r
        for r in result.tables["measures"].to_pylist()
        if r["measure_name"] == "count_finished_course_treatment"
    }
    england = {b: finished[("All", "Waiting Time", "Accessing services", b)] for b in WT_BANDS}
    total = finished[("All", "Total", None, None)]["value"]
    assert total == 670419
    assert england["<6 weeks"]["value"] == 614104
    assert england["<18 weeks"]["value"] == 661723
    assert round(100 * 614104 / total, 1) == 91.6 and round(100 * 661723 / total, 1) == 98.7
    for _, code in orgs[1:]:
        for band in WT_BANDS:
            cell = finished[(code, "Waiting Time", "Accessing services", band)]
            assert cell["value"] is not None and not cell["is_suppressed"], (code, band)
            assert 0 < cell["value"] <= finished[(code, "Total", None, None)]["value"]
        six = finished[(code, "Waiting Time", "Accessing services", "<6 weeks")]["value"]
        eighteen = finished[(code, "Waiting Time", "Accessing services", "<18 weeks")]["value"]
        assert six <= eighteen, code
    # the publisher's `NULL` (not applicable) cells are missing, never zero or suppressed
    mean_wait = finished[("QT6", "Waiting Time", "Accessing services", "Mean wait")]
    assert mean_wait["value"] is None and not mean_wait["is_suppressed"]
    assert finished[("QT6", "Waiting Time", "Accessing services", "<6 weeks")]["value"] == 4820


def test_rebuilt_annual_keeps_the_publishers_header_and_layout():
    assert first_line(REBUILT) == first_line(ANNUAL_2425)
    raw = REBUILT.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    rows = raw_rows(REBUILT)
    width = len(first_line(ANNUAL_2425).decode().strip().split(","))
    assert all(len(r) == width for r in rows)
    assert rows[0]["OrgType"] == "England"
    assert {r["VariableType"] for r in rows} == {"Total", "Waiting Time"}
    # only the 14 columns the parquet carries hold anything; the other 30 are blank everywhere
    carried = set(synth.ANNUAL_PARQUET_COLUMNS.values())
    header = first_line(ANNUAL_2425).decode().strip().split(",")
    assert len(header) - 6 - len(carried) == 30
    assert all(r[c] == "" for r in rows for c in header[6:] if c not in carried)


def test_rebuild_reproduces_the_committed_file_from_the_real_extract(tmp_path: Path):
    columns = synth.ANNUAL_EXTRACT_COLUMNS
    extract = raw_rows(EXTRACT)
    table = pa.table({c: [r[c] for r in extract] for c in columns})
    parquet = tmp_path / "measures_annual.parquet"
    pq.write_table(table, parquet)
    out = synth.rebuild_annual_main(parquet, ANNUAL_2425, tmp_path / REBUILT.name, "2024-25")
    assert out.read_bytes() == REBUILT.read_bytes()


# --- the seeded monthly generator ------------------------------------------------------------

# Greater Manchester's sub-ICBs: its many small providers make small counts to suppress.
MANCHESTER = ("00T", "00V", "00Y", "01D", "01G", "01W", "01Y", "02A", "02H", "14L")


def test_generator_is_deterministic_for_a_seed(tmp_path: Path):
    months = ["2025-12", "2026-06"]
    first = synth.generate_monthly(11, months, MANCHESTER, tmp_path / "a")
    again = synth.generate_monthly(11, list(reversed(months)), MANCHESTER, tmp_path / "b")
    other = synth.generate_monthly(12, months, MANCHESTER, tmp_path / "c")
    assert [p.name for p in first] == [
        "nhstalkingtherapies_month_dec_2025_activity_performance.csv",
        "nhstalkingtherapies_month_jun_2026_activity_performance.csv",
    ]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]


def test_generated_files_reread_in_the_published_schema(tmp_path: Path):
    sub_icbs = {r["sub_icb_code"]: r for r in raw_rows(CALIBRATION / "sub_icbs.csv")}
    assert set(MANCHESTER) <= set(sub_icbs)
    icbs = {sub_icbs[c]["icb_code"] for c in MANCHESTER}
    providers = {
        r["provider_code"] for r in raw_rows(CALIBRATION / "providers.csv") if r["icb_code"] in icbs
    }
    england_real = {
        r["measure_id"]: float(r["value"])
        for r in raw_rows(CALIBRATION / "england_monthly.csv")
        if r["reporting_period"] == "2025-06"
    }
    (path,) = synth.generate_monthly(5, ["2026-06"], MANCHESTER, tmp_path)
    assert first_line(path) == first_line(JUN_2025)  # the real header, byte for byte
    result = tt.read_monthly(path)
    assert result.schema_version == "measure_value_suppressed+iso_dates"
    assert result.period == "2026-06"
    assert result.tables["unknown_group_types"].num_rows == 0
    rows = result.tables["measures"].to_pylist()
    raw = raw_rows(path)
    assert len(rows) == len(raw) == 12 * (1 + len(MANCHESTER) + len(providers))
    assert {r["org_code1"] for r in rows if r["group_type"] == "SubICB"} == set(MANCHESTER)
    assert {r["org_code2"] for r in rows if r["group_type"] == "Provider"} == providers

    england = {r["measure_id"]: r["value"] for r in rows if r["group_type"] == "England"}
    # June 2026 is past the real series: drawn around the real June 2025 England figures.
    assert england["M001"] == pytest.approx(england_real["M001"], rel=0.1)
    assert england["M192"] == pytest.approx(england_real["M192"], abs=3)
    assert not any(r["is_suppressed"] for r in rows if r["group_type"] == "England")

    below = [r for r in raw if r["GROUP_TYPE"] != "England"]
    counts = [r for r in below if r["MEASURE_NAME"].startswith("Count_")]
    published = [r["MEASURE_VALUE_SUPPRESSED"] for r in counts]
    assert "*" in published
    assert all(v == "*" or int(v) % 5 == 0 for v in published)
    # A percentage is suppressed exactly when its numerator count is.
    numerator = {"M053": "M052", "M055": "M054", "M186": "M185", "M192": "M191"}
    cell = {(r["ORG_CODE1"], r["ORG_CODE2"], r["MEASURE_ID"]): r for r in below}
    for (code1, code2, measure), r in cell.items():
        if measure in numerator:
            count = cell[(code1, code2, numerator[measure])]["MEASURE_VALUE_SUPPRESSED"]
            assert (r["MEASURE_VALUE_SUPPRESSED"] == "*") == (count == "*")


def test_generator_refuses_codes_that_are_not_real_sub_icbs(tmp_path: Path):
    with pytest.raises(ValueError, match="not real sub-ICB codes"):
        synth.generate_monthly(1, ["2026-01"], ["ZZZ"], tmp_path)


# --- the real corpus -------------------------------------------------------------------------


@pytest.mark.real_corpus
def test_rebuild_from_the_real_parquet_reproduces_the_bundled_file(tmp_path: Path):
    """The committed 2024-25 file, its test copies and the DERIVED extract are exactly what the
    rebuild makes from the real parquet and the publisher's real header."""
    if not REAL_TT.is_dir():
        pytest.skip(f"{REAL_TT} is not here")
    parquet = REAL_TT / "nhstt_parquet" / "measures_annual.parquet"
    header = REAL_TT / "annual_main_header_fixture_2024-25" / "2024-25.csv"
    assert first_line(header) == first_line(ANNUAL_2425)
    out = synth.rebuild_annual_main(parquet, header, tmp_path / REBUILT.name, "2024-25")
    sample = ROOT / "data/sample/talking_therapies/2025-03" / REBUILT.name
    assert out.read_bytes() == sample.read_bytes() == REBUILT.read_bytes()
    extract = synth.write_annual_extract(parquet, "2024-25", tmp_path / EXTRACT.name)
    assert extract.read_bytes() == EXTRACT.read_bytes()


@pytest.mark.real_corpus
def test_every_real_talking_therapies_file_reads():
    if not REAL_TT.is_dir():
        pytest.skip(f"{REAL_TT} is not here")
    monthly = sorted(REAL_TT.glob("monthly_raw_fixture_heads_*/*.csv"))
    annual = sorted(REAL_TT.glob("annual_main_header_fixture_*/*.csv"))
    assert len(monthly) == 3 and len(annual) == 2
    parquet = pq.read_table(
        REAL_TT / "nhstt_parquet" / "activity_performance_monthly.parquet",
        columns=["reporting_period", "group_type", "measure_id", "value"],
        filters=[("group_type", "=", "England")],
    ).to_pylist()
    england = {(r["reporting_period"], r["measure_id"]): r["value"] for r in parquet}
    for path in monthly:
        result = tt.read_monthly(path)
        table = result.tables["measures"].to_pylist()
        assert table and {r["group_type"] for r in table} == {"England"}
        for row in table:
            if not row["is_suppressed"]:  # the heads' marked cells are not the published values
                assert row["value"] == england[(result.period, row["measure_id"])]
    for path in annual:
        result = tt.read_annual(path)
        assert result.period == f"20{path.stem[-2:]}-03"
        assert result.tables["measures"].num_rows > 0
