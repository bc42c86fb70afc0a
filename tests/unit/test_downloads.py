"""The downloads as a spreadsheet user opens them: the same rows in every format, numbers as
numbers, text never a formula, identical bytes for identical inputs, every column explained."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from flows.downloads import DictionaryError, write_downloads

pytestmark = pytest.mark.unit


@pytest.fixture
def marts() -> duckdb.DuckDBPyConnection:
    """Tiny stand-ins for the marts the downloads read, with hostile names."""
    con = duckdb.connect()
    con.execute(
        """
        create table fct_pcn_indicators as select * from (values
            ('U1', '=HYPERLINK("http://x")', 'Q1', 'S1', 'smi_prevalence', date '2024-04-01',
             date '2025-03-31', 236.0::double, 33392.0::double, 0.706756::double, -0.5::double,
             true, 3),
            ('U2', '+Plus PCN', 'Q1', 'S1', 'smi_prevalence', date '2024-04-01',
             date '2025-03-31', null, 100.0, null, 1.0, false, null)
        ) t(pcn_code, pcn_name, icb_code, sub_icb_code, indicator_id, period_start, period_end,
            numerator, denominator, value, lower_ci95, is_suppressed, quintile)
        """
    )
    con.execute(
        "create table fct_icb_indicators as select 'Q1' as icb_code, '@ICB' as icb_name, "
        "'smi_prevalence' as indicator_id, date '2024-04-01' as period_start, 1.25::double as value"
    )
    con.execute(
        "create table fct_funnel_dispersion as select 'smi_prevalence' as indicator_id, "
        "date '2024-04-01' as period_start, 20.6::double as phi, true as is_adjusted"
    )
    con.execute(
        "create table dim_practices as select 'A1' as practice_code, '-Dash Surgery' as "
        "practice_name, 'U1' as pcn_code, 1200::bigint as registered_patients"
    )
    return con


def test_every_format_holds_the_same_rows_with_numbers_as_numbers(marts, tmp_path: Path):
    written = write_downloads(marts, tmp_path)
    assert written["indicators.csv"] == written["indicators.ods"] == 2
    csv_frame = pd.read_csv(tmp_path / "indicators.csv")
    ods_frame = pd.read_excel(tmp_path / "indicators.ods", engine="odf")
    parquet_frame = pq.read_table(tmp_path / "indicators.parquet").to_pandas()
    for frame in (csv_frame, ods_frame, parquet_frame):
        assert list(frame["pcn_code"]) == ["U1", "U2"]
        assert frame["value"].iloc[0] == pytest.approx(0.706756)
        assert frame["lower_ci95"].iloc[0] == -0.5  # a negative number stays a number
        assert frame["numerator"].isna().iloc[1]
    # text that a spreadsheet would run as a formula is shown as text
    assert ods_frame["pcn_name"].tolist() == ['\'=HYPERLINK("http://x")', "'+Plus PCN"]
    assert csv_frame["pcn_name"].tolist() == ods_frame["pcn_name"].tolist()
    assert parquet_frame["period_start"].astype(str).iloc[0] == "2024-04-01"
    lookup = pd.read_csv(tmp_path / "practice_pcn_lookup.csv")
    assert lookup["practice_name"].tolist() == ["'-Dash Surgery"]


def test_identical_inputs_give_identical_bytes(marts, tmp_path: Path):
    write_downloads(marts, tmp_path / "a")
    write_downloads(marts, tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_the_dictionary_explains_every_column_of_every_file(marts, tmp_path: Path):
    write_downloads(marts, tmp_path)
    dictionary = pd.read_csv(tmp_path / "dictionary.csv", keep_default_na=False)
    for path in sorted(tmp_path.glob("*.csv")) + sorted(tmp_path.glob("*.parquet")):
        if path.name == "dictionary.csv":
            continue
        columns = (
            pq.read_schema(path).names
            if path.suffix == ".parquet"
            else list(pd.read_csv(path, nrows=0).columns)
        )
        listed = dictionary[dictionary["file"] == path.name]
        assert list(listed["column"]) == columns
        assert (listed["description"].str.len() > 10).all()
    value = dictionary[(dictionary["file"] == "indicators.ods") & (dictionary["column"] == "value")]
    assert value["type"].item() == "number" and "unit" in value["unit"].item()


def test_an_unexplained_column_stops_the_downloads(marts, tmp_path: Path):
    marts.execute("alter table dim_practices add column secret_flag varchar")
    with pytest.raises(DictionaryError, match=r"practice_pcn_lookup\.csv: column 'secret_flag'"):
        write_downloads(marts, tmp_path)
