"""The quality gate (issue 5): every critical expectation stops a broken month, the previous
publication is untouched, and a warning publishes with the warning shown.

Two layers:
- for every critical expectation in expectations/*.yml, a copy of the fixture's validated tables
  is broken in the one way that expectation guards against, and the gate must name it (these run
  the one suite table, so all of them take seconds);
- whole runs of the flow on a broken copy of the landing zone, per kind of defect, checking that
  nothing is published and the last publication stays byte-identical.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from flows import landing, normalise, validate
from flows.landing import land_file
from flows.sources import ReaderError
from tests.conftest import FIXTURE_LANDING, FIXTURE_PERIOD

pytestmark = pytest.mark.integration


def _critical_entries() -> list[tuple[str, str, dict]]:
    entries = []
    for prefix in ("raw_", "mart_"):
        for suite in validate.load_suites(prefix):
            for table, expectations in suite["tables"].items():
                for entry in expectations:
                    if entry["severity"] == "critical":
                        entries.append((suite["name"], table, entry))
    return entries


def _id(case: tuple[str, str, dict]) -> str:
    _suite, table, entry = case
    kwargs = entry.get("kwargs", {})
    column = validate._column_of(kwargs) or ""
    condition = f"[{kwargs['row_condition']}]" if "row_condition" in kwargs else ""
    return f"{table}:{entry['type']}({column}){condition}"


CRITICAL = _critical_entries()

# Tables the two-ICB fixture leaves empty: one row in the reader's normalised shape to break.
SEED_ROWS = {
    "talking_therapies__monthly_measures": {
        "period_start": dt.date(2026, 6, 1),
        "period_end": dt.date(2026, 6, 30),
        "group_type": "SubICB",
        "org_code1": "15N",
        "org_name1": "NHS Devon ICB - 15N",
        "org_code2": "NA",
        "org_name2": "NA",
        "measure_id": "M030",
        "measure_name": "Count_ReferralsReceived",
        "value": 1250.0,
        "is_suppressed": False,
    },
}


@pytest.fixture(scope="module")
def clean_frames(fixture_build, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Every table the suites check, as the fixture run validated it."""
    from flows.pipeline import MART_TABLES
    from flows.render import connect

    parquet_dir = tmp_path_factory.mktemp("parquet")
    landed = landing.scan(FIXTURE_LANDING)
    inputs = normalise.normalise_files(
        landing.select_with_series(landed, FIXTURE_PERIOD), parquet_dir
    )
    normalise.write_empty_tables(landing.select_with_series(landed, FIXTURE_PERIOD), parquet_dir)
    frames = validate.read_parquet_frames(parquet_dir)
    frames["inputs__schema"] = validate.schema_frame(parquet_dir)
    frames["inputs__vintages"] = validate.vintages_frame(
        inputs, landed, FIXTURE_PERIOD, validate.input_limits()
    )
    release = fixture_build["summary"]["release_id"]
    db_path = fixture_build["out"] / "work" / release / "pcn_benchmark.duckdb"
    with connect(db_path) as con:
        for name in MART_TABLES:
            frames[name] = con.sql(f"select * from {name}").df()
    for table, row in SEED_ROWS.items():
        if frames[table].empty:
            frames[table] = pd.DataFrame([row]).astype(
                {c: frames[table][c].dtype for c in row if c in frames[table]}, errors="ignore"
            )
    return frames


def test_the_fixture_passes_every_critical_expectation(clean_frames):
    results = validate.validate_frames(clean_frames, "raw_") + validate.validate_frames(
        clean_frames, "mart_"
    )
    assert [r.label for r in results if not r.success and r.severity == "critical"] == []


def test_data_docs_build_into_a_relative_folder(clean_frames, tmp_path, monkeypatch):
    """`make run` publishes into `build`, a relative path: the Data Docs land under it."""
    monkeypatch.chdir(tmp_path)
    results = validate.validate_frames(
        clean_frames, "raw_", Path("build/docs"), only={"imd__practice_scores"}
    )
    assert results and all(r.success for r in results)
    assert (tmp_path / "build/docs/index.html").is_file()


def _row(frame: pd.DataFrame, kwargs: dict) -> int:
    """A row the expectation looks at (its row_condition holds), with its columns present."""
    candidates = frame.query(kwargs["row_condition"]) if "row_condition" in kwargs else frame
    for column in (kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")):
        if (
            column
            and not candidates.empty
            and "is_suppressed" not in kwargs.get("row_condition", "")
        ):
            candidates = candidates[candidates[column].notna()]
    if candidates.empty:
        raise AssertionError(f"no row to break for {kwargs}")
    return candidates.index[0]


def _less(value):
    return value - dt.timedelta(days=1) if isinstance(value, dt.date) else value - 1


def break_frame(frame: pd.DataFrame, expectation: str, kwargs: dict) -> pd.DataFrame:
    """The one defect `expectation` exists to catch, made in a copy of `frame`."""
    frame = frame.copy()
    column = kwargs.get("column")
    if expectation in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"):
        return pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    if expectation == "expect_table_row_count_to_be_between":
        return frame.iloc[0:0]
    if expectation == "expect_column_distinct_values_to_contain_set":
        return frame[frame[column] != kwargs["value_set"][0]]
    if expectation == "expect_column_values_to_be_null":
        # a suppressed row that still carries its figure
        row = frame.index[0]
        frame.loc[row, "is_suppressed"] = True
        frame.loc[row, column] = 7.0
        return frame
    row = _row(frame, kwargs)
    if expectation == "expect_column_values_to_match_regex":
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = "X-1"
    elif expectation == "expect_column_values_to_not_be_null":
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = None
    elif expectation == "expect_column_values_to_be_in_set":
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = "not a published word"
    elif expectation == "expect_column_values_to_not_be_in_set":
        frame.loc[row, column] = kwargs["value_set"][0]
    elif expectation == "expect_column_values_to_be_between":
        if kwargs.get("min_value") is not None:
            frame.loc[row, column] = kwargs["min_value"] - 1
        else:
            frame.loc[row, column] = kwargs["max_value"] + 1
    elif expectation == "expect_column_pair_values_a_to_be_greater_than_b":
        frame[kwargs["column_A"]] = frame[kwargs["column_A"]].astype(object)
        frame.loc[row, kwargs["column_A"]] = _less(frame.loc[row, kwargs["column_B"]])
    elif expectation == "expect_column_pair_values_to_be_equal":
        frame[kwargs["column_A"]] = frame[kwargs["column_A"]].astype(object)
        frame.loc[row, kwargs["column_A"]] = f"{frame.loc[row, kwargs['column_B']]}0"
    else:
        raise AssertionError(f"no break defined for {expectation}: add one to this test")
    return frame


@pytest.mark.parametrize("case", CRITICAL, ids=[_id(c) for c in CRITICAL])
def test_each_critical_expectation_stops_the_gate(clean_frames, case):
    suite, table, entry = case
    kwargs = entry.get("kwargs", {})
    if table == "inputs__vintages" and kwargs.get("column_A") == "row_ratio":
        # the fixture has no recent previous vintage for every product: give one a ratio
        frame = clean_frames[table].copy()
        frame.loc[0, ["previous_rows", "row_ratio"]] = [frame.loc[0, "rows"] * 2, 0.5]
        frames = {table: frame}
    else:
        frames = {table: break_frame(clean_frames[table], entry["type"], kwargs)}
    results = validate.validate_frames(frames, suite, only={table})
    failed = [r for r in results if not r.success]
    target = validate._column_of(kwargs)
    assert any(r.expectation == entry["type"] and r.column == target for r in failed), [
        r.label for r in failed
    ]
    with pytest.raises(validate.QualityGateError, match=entry["type"]):
        validate.enforce([r for r in failed if r.expectation == entry["type"]])


# ---------------------------------------------------------------------------------------------
# Whole runs: a broken month never publishes


# two PCN pages are enough to publish: the gate runs before any page is rendered
PAGES = ["U11625", "U62043"]


@pytest.fixture(scope="module")
def published(prefect_harness, tmp_path_factory) -> tuple[Path, Path, dict]:
    """A clean publication of the fixture: (out dir, release, snapshot of every file)."""
    from flows.pipeline import publish_benchmark

    out = tmp_path_factory.mktemp("gate") / "out"
    publish_benchmark(
        period=FIXTURE_PERIOD, data_dir=str(FIXTURE_LANDING), out_dir=str(out), pcn_codes=PAGES
    )
    before = (out / "site").resolve()
    return out, before, {p: p.read_bytes() for p in before.rglob("*") if p.is_file()}


def _reland(landing_zone: Path, relative: str, change, tmp_path: Path) -> None:
    """Replace a landed file with a changed copy, landed as the publisher's revision would be."""
    original = landing_zone / relative
    source, vintage = original.parts[-3], original.parts[-2]
    broken = tmp_path / original.name
    broken.write_text(change(original.read_text(encoding="utf-8")), encoding="utf-8")
    shutil.rmtree(original.parent)
    land_file(broken, landing_zone, source, vintage, origin="test")


def _assert_refused(
    published: tuple, match: str, error: type[Exception] = validate.QualityGateError, **run
) -> None:
    from flows.pipeline import publish_benchmark

    out, before, snapshot = published
    with pytest.raises(error, match=match):
        publish_benchmark(out_dir=str(out), pcn_codes=PAGES, **run)
    assert (out / "site").resolve() == before
    assert {p: p.read_bytes() for p in before.rglob("*") if p.is_file()} == snapshot


@pytest.mark.slow
def test_a_truncated_list_size_file_is_refused(published, landing_copy, tmp_path):
    # February's list sizes landed as they were published; March's arrives cut in half
    march = landing_copy / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv"
    land_file(march, landing_copy, "gp_registrations", "2026-02", origin="test")

    def truncate(text: str) -> str:
        lines = text.splitlines(keepends=True)
        return "".join(lines[: len(lines) // 2])

    _reland(landing_copy, "gp_registrations/2026-03/gp-reg-pat-prac-all.csv", truncate, tmp_path)
    _assert_refused(
        published,
        r"inputs__vintages: expect_column_pair_values_a_to_be_greater_than_b\(row_ratio",
        period=FIXTURE_PERIOD,
        data_dir=str(landing_copy),
    )


@pytest.mark.slow
def test_a_month_whose_sources_are_stale_is_refused(published):
    # a year on, the newest list sizes (March 2026) are far beyond their six-month limit
    _assert_refused(
        published,
        r"max_age_months,age_months",
        period="2027-07",
        data_dir=str(FIXTURE_LANDING),
    )


@pytest.mark.slow
def test_a_changed_code_format_is_refused(published, landing_copy, tmp_path):
    relative = "pcn_workforce/2026-06/1.Primary Care Networks - June 2026 Individual Level.csv"
    # PCN codes written without their U prefix: a changed file layout
    _reland(landing_copy, relative, lambda t: t.replace(",U1", ",1", 1), tmp_path)
    # the reader refuses it first (the raw suite's regex is the second line of defence, tested
    # above on the normalised table), naming the file, the column and the row
    _assert_refused(
        published,
        r"Individual Level\.csv: column PCN_CODE: 1 value\(s\) not like U\\d\{5\} \(row 2",
        error=ReaderError,
        period=FIXTURE_PERIOD,
        data_dir=str(landing_copy),
    )


@pytest.mark.slow
def test_a_broken_mart_is_refused(published, monkeypatch):
    """A calculation error in the marts (simulated: one PCN's rows lost) stops the run after dbt."""
    import duckdb

    from flows import pipeline, transform

    def build_and_lose_a_row(period, parquet_dir, db_path, work_dir):
        transform.build_models(period, parquet_dir, db_path, work_dir)
        # the mart suites run in a process of their own: the fault must be in the database
        with duckdb.connect(str(db_path)) as con:
            con.execute(
                "create table qa_broken as select pcn_code, case when row_number() over "
                "(order by pcn_code) = 1 then indicator_rows - 1 else indicator_rows end "
                "as indicator_rows, expected_rows from qa_pcn_completeness"
            )
            kind = con.execute(
                "select table_type from information_schema.tables "
                "where table_name = 'qa_pcn_completeness'"
            ).fetchone()[0]
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} qa_pcn_completeness")
            con.execute("alter table qa_broken rename to qa_pcn_completeness")

    monkeypatch.setattr(pipeline, "build_models", build_and_lose_a_row)
    _assert_refused(
        published,
        r"qa_pcn_completeness: expect_column_pair_values_to_be_equal",
        period=FIXTURE_PERIOD,
        data_dir=str(FIXTURE_LANDING),
        force=True,  # the same inputs and code are published: only a forced run rebuilds
    )


@pytest.mark.slow
def test_a_warning_publishes_and_is_shown(prefect_harness, landing_copy, tmp_path):
    """A QOF register larger than its list (seen in real 2024-25 data) is a warning only."""
    from flows.pipeline import publish_benchmark

    relative = "qof/2025-03/PREVALENCE_2425.csv"

    def inflate(text: str) -> str:
        lines = text.splitlines(keepends=True)
        header = lines[0].rstrip("\r\n").split(",")
        register, list_size = header.index("REGISTER"), header.index("PRACTICE_LIST_SIZE")
        for i, line in enumerate(lines[1:], start=1):
            cells = line.rstrip("\r\n").split(",")
            if cells[header.index("GROUP_CODE")] == "MH":
                cells[register] = str(int(float(cells[list_size])) + 5)
                lines[i] = ",".join(cells) + "\n"
                break
        return "".join(lines)

    _reland(landing_copy, relative, inflate, tmp_path)
    out = tmp_path / "out"
    publish_benchmark(
        period=FIXTURE_PERIOD, data_dir=str(landing_copy), out_dir=str(out), pcn_codes=PAGES
    )
    site = (out / "site").resolve()
    quality = " ".join((site / "quality.html").read_text(encoding="utf-8").split())
    assert "A register larger than the list it counts against" in quality
    assert "qof__prevalence" in quality
    # the Data Docs of both stages are in the release and load nothing from another host
    for docs in ("quality/inputs/index.html", "quality/marts/index.html"):
        page = (site / docs).read_text(encoding="utf-8")
        assert "validation result" in page
    for page in (site / "quality").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text, page
        assert 'src="http' not in text and 'stylesheet" href="http' not in text, page
