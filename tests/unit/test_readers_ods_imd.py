"""ODS ePCN and epraccur across every real vintage, and the Fingertips IMD reader.

Expected rows and codes come from an independent parse of the raw bytes: the xlsx XML read with
zipfile and ElementTree (not openpyxl), the CSVs with the csv module.
"""

from __future__ import annotations

import collections
import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from flows.sources import imd, ods_epcn, ods_epraccur
from flows.sources.base import ReaderError
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.unit

HERE = FIXTURES / "ods_imd"
EPCN_2019 = HERE / "epcn_2019-12/ePCN.xlsx"
EPCN_2022 = HERE / "epcn_2022-04/ePCN.xlsx"
EPCN_2025 = HERE / "epcn_2025-01/ePCN.xlsx"
EPCN_ZIP = HERE / "epcn_zip_2022-04/epcn.zip"
EPRACCUR_2022 = HERE / "epraccur_2022-02/epraccur.csv"
EPRACCUR_2023 = HERE / "epraccur_2023-01/epraccur.csv"
EPRACCUR_2025 = HERE / "epraccur_2025-05/epraccur.csv"
EPRACCUR_2026 = HERE / "epraccur_2026_head_sample/epraccur_HEAD_SAMPLE.csv"
IMD = HERE / "fingertips_imd_2019/indicator-data.csv"
REAL = ROOT.parent / "shared" / "data" / "real"

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PCN_SHEET_NAMES = ("PCNDetails", "PCN Details")
PARTNERS = "PCN Core Partner Details"


# ---- independent parsers of the raw bytes ---------------------------------------------------


def _xlsx_zip(path: Path) -> zipfile.ZipFile:
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as outer:
        if "[Content_Types].xml" not in outer.namelist():  # the ODS epcn.zip around the xlsx
            data = outer.read("ePCN.xlsx")
    return zipfile.ZipFile(io.BytesIO(data))


def raw_sheet(path: Path, names: tuple[str, ...]) -> list[dict[str, str | None]]:
    """Rows of a sheet as {folded header: cell text}, straight from the workbook's XML."""
    with _xlsx_zip(path) as zf:
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        sheets = {s.get("name"): s.get(REL_ID) for s in book.iter(f"{MAIN}sheet")}
        rid = next(sheets[n] for n in names if n in sheets)
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        shared = []
        if "xl/sharedStrings.xml" in zf.namelist():
            strings = ElementTree.fromstring(zf.read("xl/sharedStrings.xml"))
            shared = [
                "".join(t.text or "" for t in si.iter(f"{MAIN}t"))
                for si in strings.iter(f"{MAIN}si")
            ]
        sheet = ElementTree.fromstring(zf.read(target))
    rows: list[dict[str, str | None]] = []
    for row in sheet.iter(f"{MAIN}row"):
        cells: dict[str, str | None] = {}
        for cell in row.iter(f"{MAIN}c"):
            column = re.match(r"[A-Z]+", cell.get("r")).group()
            value = cell.find(f"{MAIN}v")
            if cell.get("t") == "s":
                cells[column] = shared[int(value.text)]
            elif cell.get("t") == "inlineStr":
                cells[column] = "".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
            else:
                cells[column] = value.text if value is not None else None
        rows.append(cells)
    header = {column: " ".join((text or "").split()) for column, text in rows[0].items()}
    return [{header[c]: (v or "").strip() or None for c, v in r.items()} for r in rows[1:]]


def raw_epcn(path: Path) -> dict:
    pcns = [r for r in raw_sheet(path, PCN_SHEET_NAMES) if r.get("PCN Code")]
    rels = [r for r in raw_sheet(path, (PARTNERS,)) if r.get("PCN Code")]
    end = "Practice to PCN Relationship End Date"
    return {
        "pcn_codes": sorted(r["PCN Code"] for r in pcns),
        "open": sum(1 for r in pcns if not r.get("Close Date")),
        "spells": len(rels),
        "current": sorted(r["Partner Organisation Code"] for r in rels if not r.get(end)),
    }


def raw_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def counts(result: ods_epcn.ReadResult) -> dict:
    pcns = result.tables["pcns"].to_pydict()
    rels = result.tables["relationships"].to_pydict()
    return {
        "pcn_codes": sorted(pcns["pcn_code"]),
        "open": sum(1 for d in pcns["close_date"] if d is None),
        "spells": len(rels["pcn_code"]),
        "current": sorted(
            p for p, e in zip(rels["practice_code"], rels["end_date"], strict=True) if e is None
        ),
    }


def resave(src: Path, dest: Path, edit) -> Path:
    """A copy of a fixture workbook with one edit made through openpyxl."""
    book = openpyxl.load_workbook(src)
    edit(book)
    book.save(dest)
    return dest


def header_column(sheet, name: str) -> int:
    return next(c.column for c in sheet[1] if " ".join(str(c.value).split()) == name)


# ---- ePCN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "schema_version", "period"),
    [
        (EPCN_2019, "ccg", "2019-12"),
        (EPCN_2022, "ccg", "2022-04"),
        (EPCN_2025, "sub_icb", "2025-01"),
        (EPCN_ZIP, "ccg", "2022-04"),
    ],
    ids=["2019-12", "2022-04", "2025-01", "zip-2022-04"],
)
def test_epcn_every_layout_matches_the_raw_sheets(path: Path, schema_version: str, period: str):
    result = ods_epcn.read(path)
    assert result.schema_version == schema_version
    assert result.period == period  # the workbook's last-saved month, as served
    assert counts(result) == raw_epcn(path)


def test_epcn_fixtures_cover_closures_moves_and_a_pcn_without_practices():
    pcns = ods_epcn.read(EPCN_2025).tables["pcns"].to_pydict()
    rels = ods_epcn.read(EPCN_2025).tables["relationships"].to_pylist()
    closed = dict(zip(pcns["pcn_code"], pcns["close_date"], strict=True))
    assert closed["U27553"] == date(2020, 5, 31)
    moved = [r for r in rels if r["practice_code"] == "M82012"]
    assert sorted((r["pcn_code"], r["end_date"]) for r in moved) == [
        ("U27553", date(2020, 5, 31)),
        ("U64003", None),
    ]
    assert closed["U62999"] is None
    assert all(r["end_date"] is not None for r in rels if r["pcn_code"] == "U62999")
    cross = {
        r["practice_code"]
        for r in rels
        if r["end_date"] is None and r["practice_sub_icb_code"] != r["pcn_sub_icb_code"]
    }
    assert cross == {"C82005", "C82628"}


def test_epcn_2019_integer_dates_and_formula_cells():
    raw = raw_sheet(EPCN_2019, (PARTNERS,))
    starts = [
        datetime.strptime(r["Practice to PCN Relationship Start Date"], "%Y%m%d").date()
        for r in raw
    ]
    with _xlsx_zip(EPCN_2019) as zf:
        assert b"<f>VLOOKUP(" in zf.read("xl/worksheets/sheet2.xml")  # the publisher's formula
    result = ods_epcn.read(EPCN_2019)
    rels = result.tables["relationships"].to_pydict()
    assert rels["start_date"] == starts
    assert result.mapped_columns["pcns.open_date"] == "Open Date (YYYYMMDD)"
    # the partner sheet's PCN Name is a formula: names come from the PCN sheet only
    assert "pcn_name" not in rels
    assert all(result.tables["pcns"].to_pydict()["pcn_name"])


def test_epcn_2022_line_broken_headers_are_mapped_by_name():
    result = ods_epcn.read(EPCN_2022)
    assert result.mapped_columns["pcns.sub_icb_code"] == "Current Clinical Commissioning Group Code"
    assert result.mapped_columns["relationships.end_date"] == (
        "Practice to PCN Relationship End Date"
    )


def test_epcn_landing_vintage_is_the_period_when_given():
    assert ods_epcn.read(EPCN_2025, "2025-02").period == "2025-02"
    with pytest.raises(ReaderError, match="not YYYY-MM"):
        ods_epcn.read(EPCN_2025, "Jan 2025")


def test_epcn_renamed_header_names_file_sheet_and_column(tmp_path: Path):
    def rename(book):
        sheet = book[PARTNERS]
        sheet.cell(1, header_column(sheet, "Partner Organisation Code")).value = "Partner\nCode"

    broken = resave(EPCN_2025, tmp_path / "ePCN.xlsx", rename)
    with pytest.raises(ReaderError) as error:
        ods_epcn.read(broken)
    message = str(error.value)
    assert "ePCN.xlsx" in message
    assert PARTNERS in message
    assert "Partner Organisation Code" in message


def test_epcn_bad_date_names_sheet_row_and_column(tmp_path: Path):
    def spoil(book):
        sheet = book[PARTNERS]
        sheet.cell(
            4, header_column(sheet, "Practice to PCN Relationship Start Date")
        ).value = "20191341"

    broken = resave(EPCN_2022, tmp_path / "ePCN.xlsx", spoil)
    with pytest.raises(ReaderError) as error:
        ods_epcn.read(broken)
    message = str(error.value)
    assert f"[{PARTNERS}] row 4" in message
    assert "Practice to PCN Relationship Start Date" in message
    assert "'20191341'" in message


def test_epcn_mixed_ccg_and_sub_icb_headers_are_rejected(tmp_path: Path):
    def mix(book):
        sheet = book["PCNDetails"]
        column = header_column(sheet, "Current Clinical Commissioning Group Code")
        sheet.cell(1, column).value = "Current Sub ICB Loc Code"

    broken = resave(EPCN_2022, tmp_path / "ePCN.xlsx", mix)
    with pytest.raises(ReaderError, match="mixes CCG-era and sub-ICB-era"):
        ods_epcn.read(broken)


def test_epcn_bad_pcn_code_names_the_sheet_row(tmp_path: Path):
    def spoil(book):
        book["PCNDetails"].cell(3, 1).value = "X12345"

    broken = resave(EPCN_2025, tmp_path / "ePCN.xlsx", spoil)
    with pytest.raises(ReaderError, match=r"\[PCNDetails\]: column PCN Code: .*row 3: 'X12345'"):
        ods_epcn.read(broken)


# ---- epraccur --------------------------------------------------------------------------------

LETTERS = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}
WORDS = {"ACTIVE": "active", "INACTIVE": "closed", "DORMANT": "dormant"}


@pytest.mark.parametrize(
    ("path", "schema_version", "coding"),
    [
        (EPRACCUR_2022, "letter_status", LETTERS),
        (EPRACCUR_2023, "letter_status", LETTERS),
        (EPRACCUR_2025, "letter_status", LETTERS),
        (EPRACCUR_2026, "word_status", WORDS),
    ],
    ids=["2022-02", "2023-01", "2025-05", "2026-excerpt"],
)
def test_epraccur_every_vintage_matches_the_raw_rows(path: Path, schema_version: str, coding):
    raw = raw_csv(path)
    result = ods_epraccur.read(path)
    table = result.tables["practices"].to_pydict()
    assert result.schema_version == schema_version
    assert table["practice_code"] == [r[0] for r in raw]
    assert table["raw_status"] == [r[12] for r in raw]
    assert table["status"] == [coding[r[12]] for r in raw]
    assert table["icb_code"] == [r[3] for r in raw]
    assert table["commissioner_code"] == [r[14] or None for r in raw]
    assert table["prescribing_setting"] == [r[25] for r in raw]
    assert table["is_gp_practice"] == [r[25] in ("4", "RO76") for r in raw]
    assert [str(d) if d else None for d in table["close_date"]] == [
        f"{r[11][:4]}-{r[11][4:6]}-{r[11][6:]}" if r[11] else None for r in raw
    ]
    # a closed organisation, and only a closed one, carries a close date
    assert [s == "closed" for s in table["status"]] == [bool(r[11]) for r in raw]


def test_epraccur_new_coding_agrees_with_the_old_for_the_same_practices():
    new = ods_epraccur.read(EPRACCUR_2026).tables["practices"].to_pylist()
    old = {
        r["practice_code"]: r
        for r in ods_epraccur.read(EPRACCUR_2025).tables["practices"].to_pylist()
    }
    assert [(r["practice_code"], r["raw_status"], r["status"]) for r in new] == [
        ("A81001", "ACTIVE", "active"),
        ("A81002", "ACTIVE", "active"),
        ("A81003", "INACTIVE", "closed"),
        ("A81043", "INACTIVE", "closed"),
        ("A81065", "DORMANT", "dormant"),
        ("A81630", "INACTIVE", "closed"),
    ]
    # every INACTIVE practice was already closed (`C`), on the same date, in May 2025
    for row in new:
        if row["raw_status"] == "INACTIVE":
            assert old[row["practice_code"]]["raw_status"] == "C"
            assert old[row["practice_code"]]["close_date"] == row["close_date"]
        assert old[row["practice_code"]]["is_gp_practice"] and row["is_gp_practice"]
    # A81065 went dormant after May 2025: a real change, not a coding difference
    assert old["A81065"]["raw_status"] == "A"


def test_epraccur_keeps_channel_islands_rows_as_published():
    table = ods_epraccur.read(EPRACCUR_2025).tables["practices"].to_pylist()
    by_code = {r["practice_code"]: r for r in table}
    alderney = by_code["ALD700"]  # a code not like [A-Z]\d{5}, outside any English region
    assert (alderney["region_code"], alderney["icb_code"], alderney["postcode"]) == (
        None,
        "YAF",
        None,
    )
    assert alderney["is_gp_practice"] is False
    assert alderney["close_date"] == date(2014, 6, 30)
    assert by_code["A81001"]["postcode"] == "TS18 1HU"
    assert sum(r["status"] == "proposed" for r in table) == sum(
        1 for r in raw_csv(EPRACCUR_2025) if r[12] == "P"
    )


def test_epraccur_reads_the_ods_zip(tmp_path: Path):
    served = tmp_path / "epraccur.zip"
    with zipfile.ZipFile(served, "w") as zf:
        zf.writestr("epraccur.csv", EPRACCUR_2023.read_bytes())
    result = ods_epraccur.read(served)
    assert result.tables["practices"].equals(ods_epraccur.read(EPRACCUR_2023).tables["practices"])
    assert result.schema_version == "letter_status"


def test_epraccur_period_is_the_vintage_or_the_newest_date():
    raw = raw_csv(EPRACCUR_2025)
    newest = max(d for r in raw for d in (r[10], r[11], r[15], r[16]) if d)
    assert ods_epraccur.read(EPRACCUR_2025).period == f"{newest[:4]}-{newest[4:6]}"
    assert ods_epraccur.read(EPRACCUR_2025, "2025-05").period == "2025-05"


def test_epraccur_26_field_row_names_the_file_and_row(tmp_path: Path):
    lines = EPRACCUR_2022.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].rstrip(b"\n").rsplit(b",", 1)[0] + b"\n"
    broken = tmp_path / "epraccur.csv"
    broken.write_bytes(b"".join(lines))
    with pytest.raises(ReaderError) as error:
        ods_epraccur.read(broken)
    assert str(error.value).startswith(str(broken))
    assert "row 5 has 26 fields, expected 27" in str(error.value)


def test_epraccur_bad_date_names_the_row_and_field(tmp_path: Path):
    lines = EPRACCUR_2023.read_bytes().splitlines(keepends=True)
    fields = lines[6].split(b",")
    fields[10] = b'"20191341"'
    broken = tmp_path / "epraccur.csv"
    broken.write_bytes(b"".join([*lines[:6], b",".join(fields), *lines[7:]]))
    with pytest.raises(ReaderError, match=r"row 7: column field 11 \(open date\): '20191341'"):
        ods_epraccur.read(broken)


def test_epraccur_unknown_or_mixed_status_names_the_row(tmp_path: Path):
    lines = EPRACCUR_2025.read_bytes().splitlines(keepends=True)
    fields = lines[2].split(b",")
    fields[12] = b'"X"'
    broken = tmp_path / "epraccur.csv"
    broken.write_bytes(b"".join([*lines[:2], b",".join(fields), *lines[3:]]))
    with pytest.raises(ReaderError, match=r"field 13 \(status code\).*row 3: 'X'"):
        ods_epraccur.read(broken)
    fields[12] = b'"INACTIVE"'
    broken.write_bytes(b"".join([*lines[:2], b",".join(fields), *lines[3:]]))
    with pytest.raises(ReaderError, match=r"mixes codings: .* 'INACTIVE' on row 3"):
        ods_epraccur.read(broken)


# ---- Fingertips IMD --------------------------------------------------------------------------


def test_imd_keeps_the_gp_rows_and_their_scores():
    raw = raw_csv(IMD)
    header, rows = raw[0], [dict(zip(raw[0], r, strict=True)) for r in raw[1:]]
    gp = [r for r in rows if r["Area Type"] == "GP"]
    assert len(gp) < len(rows)  # the England rows are in the fixture and are dropped
    result = imd.read(IMD)
    table = result.tables["practice_scores"].to_pydict()
    assert result.schema_version == "fingertips_export"
    assert result.period == "2019-09"
    assert table["practice_code"] == [r["Area Code"] for r in gp]
    assert table["imd_score"] == [float(r["Value"]) for r in gp]
    assert set(table["time_period"]) == {"2019"}
    assert set(table["indicator_id"]) == {93553}
    assert "Indicator ID" in header


def test_imd_other_indicator_is_rejected_naming_the_row(tmp_path: Path):
    lines = IMD.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"93553,", b"91872,", 1)
    broken = tmp_path / "indicator-data.csv"
    broken.write_bytes(b"".join(lines))
    with pytest.raises(ReaderError) as error:
        imd.read(broken)
    message = str(error.value)
    assert "indicator-data.csv" in message
    assert "column Indicator ID: expected 93553" in message
    assert "row 3: '91872'" in message


def test_imd_renamed_header_names_file_and_column(tmp_path: Path):
    data = IMD.read_bytes().replace(b",Area Code,", b",AreaCode,", 1)
    broken = tmp_path / "indicator-data.csv"
    broken.write_bytes(data)
    with pytest.raises(ReaderError) as error:
        imd.read(broken)
    assert "indicator-data.csv" in str(error.value)
    assert "missing column(s) Area Code" in str(error.value)


def test_imd_without_gp_rows_says_which_area_types_it_saw(tmp_path: Path):
    lines = IMD.read_bytes().splitlines(keepends=True)
    broken = tmp_path / "indicator-data.csv"
    broken.write_bytes(b"".join(line for line in lines if b",GP," not in line))
    with pytest.raises(ReaderError, match=r"no 'GP' \(GP practice\) rows; area types were"):
        imd.read(broken)


# ---- every real file, when the shared corpus is present --------------------------------------


@pytest.mark.real_corpus
def test_every_real_ods_and_imd_file_matches_an_independent_parse():
    if not REAL.is_dir():
        pytest.skip(f"real corpus not present at {REAL}")
    ods = REAL / "ods"
    epcn = {
        "ePCN_2019-12/ePCN.xlsx": ("ccg", "2019-12"),
        "ePCN_2022-04/ePCN.xlsx": ("ccg", "2022-04"),
        "epcn_zip_2022-04/epcn.zip": ("ccg", "2022-04"),
        "ePCN_2023-01/ePCN.xlsx": ("sub_icb", "2023-01"),
        "ePCN_2025-01/ePCN.xlsx": ("sub_icb", "2025-01"),
    }
    for name, (schema_version, period) in epcn.items():
        result = ods_epcn.read(ods / name)
        assert (result.schema_version, result.period) == (schema_version, period), name
        got, expected = counts(result), raw_epcn(ods / name)
        assert got == expected, name
        if name.startswith("ePCN_2025-01"):
            assert (len(got["pcn_codes"]), got["open"], len(got["current"])) == (1366, 1285, 6224)
            rels = result.tables["relationships"].to_pylist()
            cross = [
                r
                for r in rels
                if r["end_date"] is None and r["practice_sub_icb_code"] != r["pcn_sub_icb_code"]
            ]
            assert len(cross) == 16

    epraccur = {
        "ePCN_2022-04/epraccur.csv": "letter_status",
        "ePCN_2023-01/epraccur.csv": "letter_status",
        "epraccur_2025-05/epraccur.csv": "letter_status",
        "epraccur_2026_head_sample/epraccur_HEAD_SAMPLE.csv": "word_status",
    }
    for name, schema_version in epraccur.items():
        raw = raw_csv(ods / name)
        result = ods_epraccur.read(ods / name)
        table = result.tables["practices"].to_pydict()
        assert result.schema_version == schema_version, name
        assert table["practice_code"] == [r[0] for r in raw], name
        coding = LETTERS if schema_version == "letter_status" else WORDS
        assert collections.Counter(table["status"]) == collections.Counter(
            coding[r[12]] for r in raw
        ), name
        assert sum(table["is_gp_practice"]) == sum(r[25] in ("4", "RO76") for r in raw), name

    raw = raw_csv(REAL / "fingertips_imd/2019/indicator-data.csv")
    gp = [r[4] for r in raw[1:] if r[6] == "GP"]
    result = imd.read(REAL / "fingertips_imd/2019/indicator-data.csv")
    assert result.tables["practice_scores"].column("practice_code").to_pylist() == gp
    assert len(gp) == 6545


def test_imd_keeps_ohids_england_score_and_refuses_an_export_without_it(tmp_path: Path):
    england = [r for r in csv.DictReader(IMD.open(encoding="utf-8")) if r["Area Type"] == "England"]
    table = imd.read(IMD).tables["england_scores"].to_pylist()
    assert table == [
        {"area_code": "E92000001", "imd_score": float(england[0]["Value"]), "time_period": "2019"}
    ]
    lines = IMD.read_text(encoding="utf-8").splitlines(keepends=True)
    no_england = tmp_path / "indicator-data.csv"
    no_england.write_text(
        "".join(line for line in lines if ",England,England," not in line), encoding="utf-8"
    )
    with pytest.raises(ReaderError, match=r"indicator-data\.csv.*Area Type.*E92000001"):
        imd.read(no_england)
