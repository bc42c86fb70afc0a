"""Each reader on the real fixture files: rows and codes checked against an independent count."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from flows.sources import gp_registrations, ods_epcn, pcn_workforce, qof
from flows.sources.base import ReaderError, decode_bytes, parse_date
from tests.conftest import FIXTURE_LANDING

pytestmark = pytest.mark.unit

WORKFORCE = (
    FIXTURE_LANDING
    / "pcn_workforce/2026-06/1.Primary Care Networks - June 2026 Individual Level.csv"
)
PRAC_ALL = FIXTURE_LANDING / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv"
PRAC_MAP = FIXTURE_LANDING / "gp_registrations/2026-01/gp-reg-pat-prac-map.csv"
QOF = FIXTURE_LANDING / "qof/2025-03/PREVALENCE_2425.csv"
EPCN = FIXTURE_LANDING / "ods_epcn/2025-01/ePCN.xlsx"


def raw_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_prac_all_keeps_every_practice_and_total():
    rows = raw_rows(PRAC_ALL)
    result = gp_registrations.read_prac_all(PRAC_ALL)
    table = result.tables["list_sizes"].to_pydict()
    assert result.period == "2026-03"
    assert result.schema_version == "sub_icb"
    assert sorted(table["practice_code"]) == sorted(r["CODE"] for r in rows)
    assert sum(table["registered_patients"]) == sum(int(r["NUMBER_OF_PATIENTS"]) for r in rows)


def test_prac_map_turns_unaligned_marker_into_a_value_and_reads_the_date():
    result = gp_registrations.read_prac_map(PRAC_MAP)
    table = result.tables["practice_mappings"].to_pydict()
    assert result.period == "2026-01"
    assert set(table["icb_code"]) == {"QOC", "QT6"}
    assert len(table["practice_code"]) == len(raw_rows(PRAC_MAP))


def test_workforce_reads_bom_file_and_sums_fte_as_published():
    rows = raw_rows(WORKFORCE)
    result = pcn_workforce.read(WORKFORCE)
    table = result.tables["staff_records"].to_pydict()
    assert result.schema_version == "utf-8-sig"
    assert result.period == "2026-06"
    assert sum(v for v in table["fte"] if v is not None) == pytest.approx(
        sum(float(r["FTE"]) for r in rows if float(r["FTE"]) >= 0)
    )
    assert str(table["census_date"][0]) == "2026-06-30"


def test_workforce_negative_fte_is_missing_and_flagged(tmp_path: Path):
    text = WORKFORCE.read_bytes().decode("utf-8-sig")
    header, first, *rest = text.splitlines(keepends=True)
    fields = next(csv.reader([first]))
    fields[14] = "-0.5"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(fields)
    broken = tmp_path / "1.Primary Care Networks - June 2026 Individual Level.csv"
    broken.write_text(header + buffer.getvalue() + "".join(rest), encoding="utf-8")
    table = pcn_workforce.read(broken).tables["staff_records"].to_pydict()
    assert table["fte"][0] is None
    assert table["is_negative_fte"][0] is True
    assert sum(table["is_negative_fte"]) == 1


def test_qof_reads_decimal_registers_and_the_qof_year():
    rows = raw_rows(QOF)
    result = qof.read(QOF, "2025-03")
    table = result.tables["prevalence"].to_pydict()
    assert result.schema_version == "decimal_register"
    mh = [r for r in rows if r["GROUP_CODE"] == "MH"]
    got = [v for v, g in zip(table["register"], table["group_code"], strict=True) if g == "MH"]
    assert sum(got) == sum(float(r["REGISTER"]) for r in mh)
    assert str(table["period_start"][0]) == "2024-04-01"
    assert str(table["period_end"][0]) == "2025-03-31"


def test_epcn_reads_spells_with_text_dates_and_multiline_headers():
    result = ods_epcn.read(EPCN)
    pcns = result.tables["pcns"].to_pydict()
    rels = result.tables["relationships"].to_pydict()
    assert result.schema_version == "sub_icb"
    assert all(code.startswith("U") for code in pcns["pcn_code"])
    assert result.mapped_columns["relationships.start_date"] == (
        "Practice to PCN Relationship Start Date"
    )
    current = [e for e in rels["end_date"] if e is None]
    assert current, "current spells have a blank end date"


def test_renamed_column_names_the_file_and_the_column(tmp_path: Path):
    text = QOF.read_text(encoding="utf-8").replace("PRACTICE_LIST_SIZE", "LIST_SIZE", 1)
    broken = tmp_path / "PREVALENCE_2425.csv"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ReaderError) as error:
        qof.read(broken, "2025-03")
    assert "PREVALENCE_2425.csv" in str(error.value)
    assert "PRACTICE_LIST_SIZE" in str(error.value)


def test_bad_code_names_the_row(tmp_path: Path):
    lines = PRAC_ALL.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(lines[3].split(",")[5], "XX", 1)
    broken = tmp_path / "gp-reg-pat-prac-all.csv"
    broken.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ReaderError, match=r"row 4: 'XX'"):
        gp_registrations.read_prac_all(broken)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", "2026-03-01"),
        ("20191001", "2019-10-01"),
        ("01JAN2021", "2021-01-01"),
        ("01-Sep-20", "2020-09-01"),
        ("01Jan2026", "2026-01-01"),
        (20191001, "2019-10-01"),
        ("", None),
    ],
)
def test_every_published_date_format(text: object, expected: str | None):
    parsed = parse_date(text, "file.csv", "EXTRACT_DATE")
    assert (str(parsed) if parsed else None) == expected


def test_cp1252_text_decodes_en_dash():
    text, encoding = decode_bytes("Applied Psychologist \u2013 Clinical".encode("cp1252"), "f.csv")
    assert encoding == "cp1252"
    assert "\u2013" in text
