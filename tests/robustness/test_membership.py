"""A practice in two PCNs at once in ODS ePCN (overlapping relationship spells: seven in the
real January 2025 file) when ePCN is the membership source: the practice belongs to the
latest-starting spell, as in the workforce trend, and is counted once. The same in the practice
map is refused by its reader (tests/robustness/test_run_outcomes.py)."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import openpyxl
import pytest

from flows import landing, normalise, transform
from tests.conftest import FIXTURE_PERIOD
from tests.robustness.conftest import FILES, CsvText

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def sub_icbs_in_map() -> set[str]:
    text = CsvText(FILES["prac_map"][0].read_bytes())
    column = text.column("SUB_ICB_LOCATION_CODE")
    return {row[column] for row in text.rows[1:]}


def test_a_practice_in_two_pcns_at_once_counts_once_in_the_newer(landing_copy: Path, tmp_path):
    workbook = openpyxl.load_workbook(FILES["epcn"][0])
    partners = workbook["PCN Core Partner Details"]
    # keep the practices whose sub-ICB the practice map knows: two fixture practices sit in 15N,
    # which the 2026 map does not list, and would have no ICB (a separate defect: dbt fails)
    known = sub_icbs_in_map()
    for number in range(partners.max_row, 1, -1):
        if partners.cell(number, 3).value not in known:
            partners.delete_rows(number)
    rows = [[c.value for c in row] for row in partners.iter_rows(min_row=2)]
    moving = rows[0]
    other = next(r for r in rows if r[4] != moving[4])
    joined = [*moving]
    joined[4], joined[5] = other[4], other[5]  # PCN Code, PCN Name
    joined[8], joined[9] = "20250601", None  # starts after the open spell it overlaps
    partners.append(joined)
    buffer = io.BytesIO()
    workbook.save(buffer)
    incoming = tmp_path / "ePCN.xlsx"
    incoming.write_bytes(buffer.getvalue())
    # landed as February 2026: newer than the January 2026 practice map, so ePCN decides
    landing.land_file(incoming, landing_copy, "ods_epcn", "2026-02", origin="robustness test")

    work = tmp_path / "work"
    selected = landing.select_with_series(landing.scan(landing_copy), FIXTURE_PERIOD)
    normalise.normalise_files(selected, work / "parquet")
    normalise.write_empty_tables(selected, work / "parquet")
    transform.build_models(FIXTURE_PERIOD, work / "parquet", work / "db.duckdb", work)

    with duckdb.connect(str(work / "db.duckdb"), read_only=True) as con:
        found = con.execute(
            "select pcn_code, membership_source from dim_practices where practice_code = ?",
            [moving[0]],
        ).fetchall()
    assert found == [(other[4], "ods_epcn")]
