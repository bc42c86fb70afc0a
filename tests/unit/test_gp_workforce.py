"""GP Workforce Detailed CSV: the reader on the rebuilt May 2026 extract and a derived 'ND' file,
and the rebuild itself (real totals, determinism, consistent seeded roles)."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from pathlib import Path

import pytest

from flows.sources import gp_workforce
from flows.sources.base import ReaderError
from flows.synthetic import gp_workforce as rebuild
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.unit

HERE = FIXTURES / "gp_workforce"
DETAILED = HERE / "1 General Practice – May 2026 Practice Level - Detailed.csv"
ND_ERA = HERE / "derived_nd_era" / "1 General Practice – January 2023 Practice Level - Detailed.csv"
DICTIONARY = HERE / "gpw_detailed_columns_extracted.tsv"
COMPOSITION = HERE / "gp_composition_may26.csv"
PRAC_MAP = HERE / "gp-reg-pat-prac-map.csv"
PRAC_ALL = HERE / "gp-reg-pat-prac-all.csv"
REAL = ROOT.parent / "shared" / "data" / "real" / "gp_workforce"

FINER = (
    ("TOTAL_DPC_SPLW_HC", "TOTAL_DPC_SPLW_FTE"),
    ("TOTAL_DPC_THERA_COU_HC", "TOTAL_DPC_THERA_COU_FTE"),
    ("TOTAL_DPC_NHS_TALKING_THERA_HC", "TOTAL_DPC_NHS_TALKING_THERA_FTE"),
)


def raw_table(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def number(text: str) -> float | None:
    return None if text in ("NA", "ND") else float(text)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> rebuild.RebuildResult:
    out = tmp_path_factory.mktemp("gpw") / "GPWPracticeCSV.052026.zip"
    return rebuild.rebuild_detailed_csv(
        DICTIONARY, COMPOSITION, PRAC_MAP, rebuild.DEFAULT_SEED, out, patients_csv=PRAC_ALL
    )


def member_rows(result: rebuild.RebuildResult) -> tuple[list[str], list[dict[str, str]]]:
    with zipfile.ZipFile(result.out_zip) as zf:
        return raw_table(zf.read(result.member))


# ---------------------------------------------------------------- reader


def test_reader_picks_columns_by_name_and_reads_the_month_from_the_file_name():
    header, rows = raw_table(DETAILED.read_bytes())
    result = gp_workforce.read(DETAILED)
    table = result.tables["practice_fte"].to_pydict()
    assert (result.source, result.product) == ("gp_workforce", "practice_detailed")
    assert result.period == "2026-05"
    assert result.schema_version == "na_marker"
    assert table["practice_code"] == [r["PRAC_CODE"] for r in rows]
    for name in ("TOTAL_GP_FTE", "TOTAL_NURSES_FTE", "TOTAL_DPC_FTE", "TOTAL_ADMIN_FTE"):
        assert table[name.lower()] == [number(r[name]) for r in rows]
    assert result.mapped_columns["total_dpc_splw_fte"] == "TOTAL_DPC_SPLW_FTE"
    assert len(header) == 805


def test_unaligned_and_na_become_null_and_are_counted():
    _, rows = raw_table(DETAILED.read_bytes())
    result = gp_workforce.read(DETAILED)
    table = result.tables["practice_fte"].to_pydict()
    unaligned = [r["PRAC_CODE"] for r in rows if r["PCN_CODE"] == "Unaligned"]
    assert unaligned == ["L82007", "L82620", "M82058"]
    got = [c for c, u in zip(table["practice_code"], table["is_unaligned"], strict=True) if u]
    assert got == unaligned
    null_pcn = [c for c, p in zip(table["practice_code"], table["pcn_code"], strict=True) if not p]
    assert null_pcn == [r["PRAC_CODE"] for r in rows if r["PCN_CODE"] in ("Unaligned", "NA")]
    missing = {
        (m["column"], m["marker"]): m["rows"] for m in result.tables["missing_markers"].to_pylist()
    }
    assert missing[("pcn_code", "Unaligned")] == 3
    assert missing[("total_gp_hc", "NA")] == sum(r["TOTAL_GP_HC"] == "NA" for r in rows) == 30
    assert missing[("total_patients", "NA")] == 2  # E83049 and Y02128 have no list size
    assert table["total_patients"].count(None) == 2
    assert table["sub_icb_code"][table["practice_code"].index("Y02128")] is None


def test_reader_reads_the_publishers_zip_and_skips_the_high_level_csv(tmp_path: Path):
    archive = tmp_path / "GPWPracticeCSV.052026.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("2 General Practice – May 2026 Practice Level - High level.csv", "X\r\n1\r\n")
        zf.writestr("0 General Practice Detailed Practice-Level CSV. Overall Definitions.xlsx", "")
        zf.writestr(DETAILED.name, DETAILED.read_bytes())
    from_zip = gp_workforce.read(archive, "2026-05").tables["practice_fte"]
    assert from_zip.equals(gp_workforce.read(DETAILED).tables["practice_fte"])


def test_an_archive_of_several_months_gives_the_landed_month(tmp_path: Path):
    archive = tmp_path / "GPWPracticeCSV.052026.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(DETAILED.name, DETAILED.read_bytes())
        zf.writestr(ND_ERA.name, ND_ERA.read_bytes())
    assert gp_workforce.read(archive, "2023-01").schema_version == "nd_marker"
    assert gp_workforce.read(archive, "2026-05").schema_version == "na_marker"
    with pytest.raises(ReaderError, match="for 2024-01"):
        gp_workforce.read(archive, "2024-01")


def test_nd_era_file_markers_are_null_and_talking_therapies_columns_optional():
    header, rows = raw_table(ND_ERA.read_bytes())
    assert "TOTAL_DPC_NHS_TALKING_THERA_FTE" not in header
    result = gp_workforce.read(ND_ERA)
    table = result.tables["practice_fte"].to_pydict()
    assert result.period == "2023-01"
    assert result.schema_version == "nd_marker"
    assert table["total_gp_hc"] == [None] * len(rows)
    assert table["total_dpc_nhs_talking_thera_fte"] == [None] * len(rows)
    assert "total_dpc_nhs_talking_thera_fte" not in result.mapped_columns
    missing = {
        (m["column"], m["marker"]): m["rows"] for m in result.tables["missing_markers"].to_pylist()
    }
    assert missing[("total_gp_hc", "ND")] == sum(r["TOTAL_GP_HC"] == "ND" for r in rows)
    assert missing[("total_patients", "NA")] == 2  # list sizes keep the marker they were given
    assert table["total_dpc_fte"] == [number(r["TOTAL_DPC_FTE"]) for r in rows]


def test_nd_marker_in_a_2026_file_is_an_error(tmp_path: Path):
    header, rows = raw_table(DETAILED.read_bytes())
    cells = [[r[h] for h in header] for r in rows]
    at = header.index("TOTAL_NURSES_FTE")
    cells[4][at] = "ND"
    broken = write_csv(tmp_path / DETAILED.name, header, cells)
    with pytest.raises(ReaderError, match=r"'ND' cells in a file for 2026-05.*TOTAL_NURSES_FTE"):
        gp_workforce.read(broken)


def test_columns_moved_are_still_read_by_name(tmp_path: Path):
    header, rows = raw_table(DETAILED.read_bytes())
    order = list(range(len(header)))
    random.Random(7).shuffle(order)
    moved = write_csv(
        tmp_path / DETAILED.name,
        [header[i] for i in order],
        [[r[header[i]] for i in order] for r in rows],
    )
    assert (
        gp_workforce.read(moved)
        .tables["practice_fte"]
        .equals(gp_workforce.read(DETAILED).tables["practice_fte"])
    )


@pytest.mark.parametrize(
    "dropped", ["TOTAL_DPC_SPLW_FTE", "PRAC_CODE", "TOTAL_DPC_NHS_TALKING_THERA_HC"]
)
def test_a_dropped_required_column_names_the_file_and_the_column(tmp_path: Path, dropped: str):
    header, rows = raw_table(DETAILED.read_bytes())
    kept = [h for h in header if h != dropped]
    broken = write_csv(tmp_path / DETAILED.name, kept, [[r[h] for h in kept] for r in rows])
    with pytest.raises(ReaderError) as error:
        gp_workforce.read(broken)
    assert DETAILED.name in str(error.value)
    assert f"missing column(s) {dropped}" in str(error.value)


def test_a_bad_number_names_the_row_and_column(tmp_path: Path):
    header, rows = raw_table(DETAILED.read_bytes())
    cells = [[r[h] for h in header] for r in rows]
    cells[2][header.index("TOTAL_DPC_FTE")] = "1,5"
    broken = write_csv(tmp_path / DETAILED.name, header, cells)
    with pytest.raises(ReaderError, match=r"row 4, column TOTAL_DPC_FTE: '1,5' is not a number"):
        gp_workforce.read(broken)


def test_a_file_without_a_month_in_its_name_is_refused(tmp_path: Path):
    plain = tmp_path / "practice_level.csv"
    plain.write_bytes(DETAILED.read_bytes())
    with pytest.raises(ReaderError, match="cannot tell the month"):
        gp_workforce.read(plain)
    with pytest.raises(ReaderError, match="for 2026-05 but was landed as 2026-04"):
        gp_workforce.read(DETAILED, "2026-04")


# ---------------------------------------------------------------- rebuild


def test_rebuild_reproduces_the_committed_extract_byte_for_byte(rebuilt):
    with zipfile.ZipFile(rebuilt.out_zip) as zf:
        assert zf.namelist() == [DETAILED.name]
        assert zf.infolist()[0].date_time == rebuild.ZIP_TIME
        assert zf.read(DETAILED.name) == DETAILED.read_bytes()
    assert rebuilt.out_zip.name == "GPWPracticeCSV.052026.zip"


def test_rebuilt_header_is_the_dictionary_in_order(rebuilt):
    names = [line.split("\t")[1] for line in DICTIONARY.read_text().splitlines()[1:]]
    header, _ = member_rows(rebuilt)
    assert header == names
    assert len(header) == rebuilt.columns == 805


def test_rebuilt_totals_are_the_extracts_real_values(rebuilt):
    _, rows = member_rows(rebuilt)
    extract = {r["gp_code"]: r for r in csv.DictReader(COMPOSITION.open(newline=""))}
    assert sorted(extract) == [r["PRAC_CODE"] for r in rows]
    gp = ("partner_fte", "salaried_fte", "locum_fte", "registrar_fte", "foundation_other_fte")
    for row in rows:
        given = {k: float(v) for k, v in extract[row["PRAC_CODE"]].items() if k.endswith("_fte")}
        assert float(row["TOTAL_GP_FTE"]) == pytest.approx(sum(given[k] for k in gp), abs=5e-5)
        fully_qualified = given["partner_fte"] + given["salaried_fte"] + given["locum_fte"]
        assert float(row["TOTAL_GP_EXTG_FTE"]) == pytest.approx(fully_qualified, abs=5e-5)
        assert float(row["TOTAL_NURSES_FTE"]) == given["nurse_fte"]
        assert float(row["TOTAL_DPC_FTE"]) == given["dpc_fte"]
        assert float(row["TOTAL_ADMIN_FTE"]) == given["admin_fte"]
    # The list sizes and geography are the registrations' own values.
    sizes = {r["CODE"]: r["NUMBER_OF_PATIENTS"] for r in csv.DictReader(PRAC_ALL.open())}
    assert {r["PRAC_CODE"]: r["TOTAL_PATIENTS"] for r in rows if r["TOTAL_PATIENTS"] != "NA"} == (
        sizes
    )
    mapping = {r["PRACTICE_CODE"]: r for r in csv.DictReader(PRAC_MAP.open())}
    for row in rows:
        if row["PRAC_CODE"] in mapping:
            assert row["SUB_ICB_CODE"] == mapping[row["PRAC_CODE"]]["SUB_ICB_LOCATION_CODE"]
            assert row["ICB_CODE"] == mapping[row["PRAC_CODE"]]["ICB_CODE"]
    assert rebuilt.not_in_practice_map == ("Y02128",)
    assert rebuilt.not_in_list_sizes == ("E83049", "Y02128")


def test_rebuild_reports_which_columns_are_synthetic(rebuilt):
    assert set(rebuilt.synthetic_columns) == {c for pair in FINER for c in pair}
    assert "TOTAL_GP_FTE" in rebuilt.rebuilt_columns
    assert not set(rebuilt.synthetic_columns) & set(rebuilt.rebuilt_columns)
    header, rows = member_rows(rebuilt)
    filled = {"PRAC_CODE", *rebuilt.rebuilt_columns, *rebuilt.reference_columns}
    filled |= set(rebuilt.synthetic_columns)
    assert rebuilt.na_only_columns == len(header) - len(filled)
    for column in set(header) - filled:
        assert {r[column] for r in rows} == {"NA"}, column


def test_seeded_roles_are_consistent_with_the_real_totals(rebuilt):
    _, rows = member_rows(rebuilt)
    for row in rows:
        dpc = float(row["TOTAL_DPC_FTE"])
        finer = 0.0
        for hc_column, fte_column in FINER:
            hc, fte = int(row[hc_column]), float(row[fte_column])
            assert hc >= fte >= 0
            assert (hc > 0) == (fte > 0)
            finer += fte
        assert finer <= dpc + 1e-9, row["PRAC_CODE"]
        if dpc == 0:
            assert finer == 0
    assert any(int(r["TOTAL_DPC_THERA_COU_HC"]) == 2 for r in rows)


def test_rebuild_is_deterministic_and_the_seed_moves_only_synthetic_values(tmp_path, rebuilt):
    again = rebuild.rebuild_detailed_csv(
        DICTIONARY,
        COMPOSITION,
        PRAC_MAP,
        rebuild.DEFAULT_SEED,
        tmp_path / "again.zip",
        patients_csv=PRAC_ALL,
    )
    assert again.out_zip.read_bytes() == rebuilt.out_zip.read_bytes()
    other = rebuild.rebuild_detailed_csv(
        DICTIONARY, COMPOSITION, PRAC_MAP, 1, tmp_path / "other.zip", patients_csv=PRAC_ALL
    )
    header, first = member_rows(rebuilt)
    _, second = member_rows(other)
    changed = {h for a, b in zip(first, second, strict=True) for h in header if a[h] != b[h]}
    assert changed
    assert changed <= set(rebuilt.synthetic_columns)


def test_a_practice_keeps_its_values_whatever_else_is_in_the_file(tmp_path, rebuilt):
    lines = COMPOSITION.read_bytes().splitlines(keepends=True)
    fewer = tmp_path / "gp_composition_may26.csv"
    fewer.write_bytes(b"".join(lines[:1] + lines[5:9]))
    part = rebuild.rebuild_detailed_csv(
        DICTIONARY, fewer, PRAC_MAP, rebuild.DEFAULT_SEED, tmp_path / "p.zip", patients_csv=PRAC_ALL
    )
    _, whole = member_rows(rebuilt)
    _, some = member_rows(part)
    assert some == [r for r in whole if r["PRAC_CODE"] in {s["PRAC_CODE"] for s in some}]
    assert len(some) == 4


def test_a_dictionary_with_a_gap_is_refused(tmp_path: Path):
    lines = DICTIONARY.read_text().splitlines(keepends=True)
    gapped = tmp_path / DICTIONARY.name
    gapped.write_text("".join(lines[:10] + lines[11:]))
    with pytest.raises(ReaderError, match=r"line 11: column 'K' is not column number 10"):
        rebuild.read_dictionary(gapped)


@pytest.mark.real_corpus
def test_real_rebuild_has_the_dictionarys_805_fields_and_the_national_totals(tmp_path: Path):
    dictionary = REAL / "definitions_2025-11" / "gpw_detailed_columns_extracted.tsv"
    composition = REAL / "2026-05" / "gp_composition_may26.csv"
    if not (dictionary.is_file() and composition.is_file()):
        pytest.skip("the real corpus (../shared/data/real) is not here")
    sample = ROOT / "data" / "sample" / "gp_registrations"
    result = rebuild.rebuild_detailed_csv(
        dictionary,
        composition,
        sample / "2026-01" / "gp-reg-pat-prac-map.csv",
        rebuild.DEFAULT_SEED,
        tmp_path / "GPWPracticeCSV.052026.zip",
        patients_csv=sample / "2026-03" / "gp-reg-pat-prac-all.csv",
    )
    with dictionary.open(newline="") as fh:
        names = [row["Name of Field"] for row in csv.DictReader(fh, delimiter="\t")]
    header, rows = member_rows(result)
    assert len(names) == 805
    assert header == names
    extract = list(csv.DictReader(composition.open(newline="")))
    assert len(rows) == len(extract) == 6153
    gp = ("partner_fte", "salaried_fte", "locum_fte", "registrar_fte", "foundation_other_fte")
    expected = sum(float(r[k]) for r in extract for k in gp)
    assert sum(float(r["TOTAL_GP_FTE"]) for r in rows) == pytest.approx(expected, abs=0.5)
    read = gp_workforce.read(result.out_zip, "2026-05")
    assert read.tables["practice_fte"].num_rows == 6153


@pytest.mark.parametrize(
    ("name", "period"),
    [
        ("1 General Practice – May 2026 Practice Level - Detailed.csv", "2026-05"),
        ("General Practice – June 2022 Practice Level.csv", "2022-06"),
        ("20. General Practice – December 2020 Practice Level.csv", "2020-12"),
        ("1 General Practice ΓÇô May 2026 Practice Level - Detailed.csv", "2026-05"),
        ("2 General Practice – May 2026 Practice Level - High level.csv", None),
        ("1.General Practice – February 2026 Individual Level.csv", None),
    ],
)
def test_the_month_comes_from_the_publishers_file_names(name: str, period: str | None):
    assert gp_workforce.period_from_name(name) == period
