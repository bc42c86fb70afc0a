"""Values at the edges, at the reader (fast) and, for a period with no Talking Therapies rows,
through dbt to the marts (slow): what is kept as published, what is refused, what is blank."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from flows import landing, normalise, transform
from flows.sources.base import ReaderError
from tests.conftest import FIXTURE_PERIOD
from tests.robustness.conftest import FILES, CsvText, read_as_landed


def edited(name: str, column: str, row: int, value: str) -> bytes:
    text = CsvText(FILES[name][0].read_bytes())
    text.rows[row - 1][text.column(column)] = value
    return text.to_bytes()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("fte", "kept", "flagged"),
    [("-0.026666667", None, True), ("2.5", 2.5, False), ("50", 50.0, False)],
)
def test_workforce_fte_at_the_edges_is_kept_or_flagged(fte, kept, flagged, tmp_path: Path):
    """Negative FTE (real in 2021-22 files) is missing and flagged; above 1 is kept as published."""
    result = read_as_landed("pcn_workforce", edited("pcn_workforce", "FTE", 4, fte), tmp_path)
    table = result.tables["staff_records"].to_pydict()
    assert table["fte"][2] == kept
    assert table["is_negative_fte"][2] is flagged


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "column", "value", "words"),
    [
        ("pcn_workforce", "FTE", "50.5", "column FTE: 1 value(s) above 50 for one record (row 4"),
        ("prac_all", "NUMBER_OF_PATIENTS", "-1", "row 4, column NUMBER_OF_PATIENTS"),
        ("quin_age", "NUMBER_OF_PATIENTS", "-1", "row 4, column NUMBER_OF_PATIENTS"),
        ("qof", "REGISTER", "-3.0", "row 4, column REGISTER: '-3.0' is not a count"),
        ("qof", "PRACTICE_LIST_SIZE", "nan", "row 4, column PRACTICE_LIST_SIZE"),
        ("gp_workforce", "TOTAL_GP_FTE", "-1.5", "row 4, column TOTAL_GP_FTE"),
        ("gp_workforce", "TOTAL_PATIENTS", "inf", "row 4, column TOTAL_PATIENTS"),
        ("imd", "Value", "NaN", "row 4, column Value"),
        ("tt_annual", "Count_ReferralsReceived", "1e999", "row 4, column Count_ReferralsReceived"),
    ],
)
def test_impossible_values_are_refused_with_row_and_column(
    name: str, column: str, value: str, words: str, tmp_path: Path
):
    with pytest.raises(ReaderError) as caught:
        read_as_landed(name, edited(name, column, 4, value), tmp_path)
    assert words in str(caught.value)


@pytest.mark.unit
def test_suppression_markers_everywhere_are_read_as_suppressed(tmp_path: Path):
    text = CsvText(FILES["tt_annual"][0].read_bytes())
    first = text.column("Count_ReferralsReceived")
    for row in text.rows[1:]:
        row[first:] = ["*" if i % 2 else "-" for i, _ in enumerate(row[first:])]
    measures = read_as_landed("tt_annual", text.to_bytes(), tmp_path).tables["measures"]
    table = measures.to_pydict()
    assert table["value"] and all(v is None for v in table["value"])
    assert all(table["is_suppressed"])


@pytest.mark.integration
@pytest.mark.slow
def test_a_period_with_no_talking_therapies_rows(landing_copy: Path, tmp_path: Path):
    """No Talking Therapies release on or before the period: every PCN still has a row for each
    Talking Therapies indicator, with no value (not available), and the other figures stand."""
    shutil.rmtree(landing_copy / "talking_therapies")
    work = tmp_path / "work"
    selected = landing.select_with_series(landing.scan(landing_copy), FIXTURE_PERIOD)
    normalise.normalise_files(selected, work / "parquet")
    assert "talking_therapies (annual)" in normalise.write_empty_tables(selected, work / "parquet")
    transform.build_models(FIXTURE_PERIOD, work / "parquet", work / "db.duckdb", work)
    with duckdb.connect(str(work / "db.duckdb"), read_only=True) as con:
        pcns = con.execute("select count(*) from dim_pcns").fetchone()[0]
        talking = con.execute(
            "select indicator_id, count(distinct pcn_code), count(value), count(england_value) "
            "from fct_pcn_indicators where indicator_id like 'tt_%' group by 1 order by 1"
        ).fetchall()
        smi = con.execute(
            "select count(value) from fct_pcn_indicators where indicator_id = 'smi_prevalence'"
        ).fetchone()[0]
    assert len(talking) == 6
    assert all(row[1:] == (pcns, 0, 0) for row in talking), talking
    assert smi > 0
