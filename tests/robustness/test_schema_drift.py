"""Schema drift in each source: a renamed, dropped or added column; a new code format; an
unknown GROUP_TYPE. Columns are picked by name, so an added column changes nothing and a renamed
or dropped one is refused with the column named; codes that change format are refused with the
column and the first rows named."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from flows.sources.base import ReaderError
from tests.robustness.conftest import FILES, CsvText, read_as_landed

pytestmark = pytest.mark.unit

# A column each reader needs, as published (the renamed or dropped one).
KEY_COLUMN = {
    "prac_all": "NUMBER_OF_PATIENTS",
    "prac_map": "PCN_CODE",
    "quin_age": "AGE_GROUP_5",
    "pcn_workforce": "FTE",
    "gp_workforce": "TOTAL_GP_FTE",
    "qof": "REGISTER",
    "imd": "Value",
    "tt_annual": "Count_ReferralsReceived",
    "tt_monthly": "MEASURE_ID",
}


def edited(name: str, edit) -> bytes:
    text = CsvText(FILES[name][0].read_bytes())
    edit(text)
    return text.to_bytes()


def same_as_original(name: str, data: bytes, tmp_path: Path) -> None:
    expected = read_as_landed(name, None, tmp_path / "original")
    got = read_as_landed(name, data, tmp_path / "changed")
    for table, rows in expected.tables.items():
        assert got.tables[table].equals(rows), f"{name}: table {table} differs"


@pytest.mark.parametrize("name", KEY_COLUMN)
def test_a_renamed_column_is_refused_by_its_name(name: str, tmp_path: Path):
    column = KEY_COLUMN[name]

    def rename(text: CsvText) -> None:
        text.header[text.column(column)] = column + "_2026"

    with pytest.raises(ReaderError, match=rf"missing column\(s\) .*{re.escape(column)}"):
        read_as_landed(name, edited(name, rename), tmp_path)


@pytest.mark.parametrize("name", KEY_COLUMN)
def test_a_dropped_column_is_refused_by_its_name(name: str, tmp_path: Path):
    column = KEY_COLUMN[name]

    def drop(text: CsvText) -> None:
        index = text.column(column)
        for row in text.rows:
            del row[index]

    with pytest.raises(ReaderError, match=rf"missing column\(s\) .*{re.escape(column)}"):
        read_as_landed(name, edited(name, drop), tmp_path)


@pytest.mark.parametrize("name", KEY_COLUMN)
def test_an_added_column_changes_nothing(name: str, tmp_path: Path):
    def add(text: CsvText) -> None:
        text.rows[0].insert(1, "NEW_MEASURE_2026")
        for row in text.rows[1:]:
            row.insert(1, "12.5")

    same_as_original(name, edited(name, add), tmp_path)


def test_epraccur_with_a_column_more_or_less_names_the_row(tmp_path: Path):
    """epraccur has no header: fields are positions, so a changed width is refused."""
    changes = ((lambda r: r.append("X"), "has 28 fields"), (lambda r: r.pop(), "has 26 fields"))
    for change, words in changes:

        def edit(text: CsvText, change=change) -> None:
            for row in text.rows:
                change(row)

        with pytest.raises(ReaderError, match=rf"epraccur\.csv.*row 1 {words}"):
            read_as_landed("epraccur", edited("epraccur", edit), tmp_path / words)


def epcn_edited(edit) -> bytes:
    workbook = openpyxl.load_workbook(FILES["epcn"][0])
    edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_epcn_renamed_dropped_and_added_columns(tmp_path: Path):
    partners = "PCN Core Partner Details"

    def rename(wb) -> None:
        wb[partners].cell(1, 5).value = "PCN ODS Code"

    def drop(wb) -> None:
        wb[partners].delete_cols(5)

    def add(wb) -> None:
        wb[partners].insert_cols(2)
        wb[partners].cell(1, 2).value = "Partner Type"

    for label, edit in (("renamed", rename), ("dropped", drop)):
        with pytest.raises(ReaderError, match=r"PCN Core Partner Details.*missing column\(s\) PCN"):
            read_as_landed("epcn", epcn_edited(edit), tmp_path / label)
    same_as_original("epcn", epcn_edited(add), tmp_path / "added")


# --- a new code format: refused with the column and the first rows named ------------------------

NEW_CODES = {
    # product: (published column, old code -> new code)
    "prac_all": ("CODE", lambda c: c + "0"),
    "prac_map": ("PCN_CODE", lambda c: c.replace("U", "PCN", 1)),
    "quin_age": ("ORG_CODE", lambda c: c + "0"),
    "pcn_workforce": ("ICB_CODE", lambda c: "E5400" + c),
    "gp_workforce": ("PRAC_CODE", lambda c: c.lower()),
    "qof": ("PRACTICE_CODE", lambda c: c + "0"),
    "tt_monthly": ("MEASURE_ID", lambda c: c.replace("M", "MEAS-", 1)),
}


@pytest.mark.parametrize("name", NEW_CODES)
def test_a_new_code_format_is_refused_naming_column_and_row(name: str, tmp_path: Path):
    column, change = NEW_CODES[name]

    def recode(text: CsvText) -> None:
        index = text.column(column)
        for row in text.rows[1:]:
            row[index] = change(row[index])

    with pytest.raises(ReaderError) as caught:
        read_as_landed(name, edited(name, recode), tmp_path)
    message = str(caught.value)
    assert re.search(rf"{column}.*row \d+|row \d+.*{column}", message), message
    assert FILES[name][0].name in message or name == "tt_monthly", message


def test_epcn_new_pcn_code_format_is_refused(tmp_path: Path):
    def recode(wb) -> None:
        sheet = wb["PCNDetails"]
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row, 1).value = "PCN-" + str(sheet.cell(row, 1).value)

    with pytest.raises(ReaderError, match=r"\[PCNDetails\]: column PCN Code: .* \(row 2: 'PCN-U"):
        read_as_landed("epcn", epcn_edited(recode), tmp_path)


# --- GROUP_TYPE -----------------------------------------------------------------------------


def test_an_unknown_group_type_is_counted_and_left_out(tmp_path: Path):
    """The real Sep 2025 head carries a synthetic 'ABC' row: counted, never read as a figure."""
    result = read_as_landed("tt_monthly", None, tmp_path)
    measures = result.tables["measures"].to_pydict()
    unknown = result.tables["unknown_group_types"].to_pydict()
    assert unknown == {"group_type": ["ABC"], "row_count": [1]}
    assert set(measures["group_type"]) == {"England"}
    assert len(measures["group_type"]) == 5


def test_a_file_of_only_unknown_group_types_is_refused(tmp_path: Path):
    def rename(text: CsvText) -> None:
        index = text.column("GROUP_TYPE")
        for row in text.rows[1:]:
            row[index] = row[index].replace("England", "National")

    with pytest.raises(ReaderError, match=r"no rows of a known GROUP_TYPE .*'National': 5"):
        read_as_landed("tt_monthly", edited("tt_monthly", rename), tmp_path)
