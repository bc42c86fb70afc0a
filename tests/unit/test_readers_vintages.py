"""Every real vintage of the registrations, PCN workforce and QOF files, read by its reader.

The fixtures (tests/fixtures/vintages/, see its PROVENANCE.md) are small real extracts that keep
the publishers' bytes. Expected counts and totals are computed here straight from those bytes with
the csv module, sharing no code with the readers. One test, marked `real_corpus`, does the same on
the whole real files when ../shared/data/real exists.
"""

from __future__ import annotations

import calendar
import csv
import io
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from flows.sources import gp_registrations, pcn_workforce, qof
from flows.sources.base import ReaderError, ReadResult
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.unit

VINTAGES = FIXTURES / "vintages"
REAL = ROOT.parent / "shared" / "data" / "real"
EN_DASH = "\u2013"

Reader = Callable[[Path, str], ReadResult]
READERS: dict[str, Reader] = {
    "prac_all": lambda p, v: gp_registrations.read_prac_all(p),
    "prac_map": lambda p, v: gp_registrations.read_prac_map(p),
    "quin_age": lambda p, v: gp_registrations.read_quin_age(p),
    "workforce": lambda p, v: pcn_workforce.read(p),
    "qof": qof.read,
}

# (vintage, file, schema_version, EXTRACT_DATE exactly as published)
PRAC_ALL = [
    ("2021-01", "gp-reg-pat-prac-all.csv", "ccg", "01JAN2021"),
    ("2025-04", "gp-reg-pat-prac-all.zip", "sub_icb", "2025-04-01"),
    ("2025-10", "gp-reg-pat-prac-all.csv", "sub_icb", "2025-10-01"),
    ("2026-03", "gp-reg-pat-prac-all.csv", "sub_icb", "2026-03-01"),
]
PRAC_MAP = [
    ("2020-09", "gp-reg-pat-prac-map.csv", "ccg", "01-Sep-20"),
    ("2022-01", "gp-reg-pat-prac-map.csv", "ccg", "01Jan2022"),
    ("2026-01", "gp-reg-pat-prac-map.csv", "sub_icb", "01Jan2026"),
]
QUIN_AGE = [("2026-07", "gp-reg-pat-prac-quin-age.zip", "sub_icb", "2026-07-01")]
WORKFORCE = [
    ("2020-03", "1.Primary Care Networks \u2013 March 2020 Individual Level.csv", "cp1252"),
    ("2020-06", "2.Primary Care Networks \u2013 June 2020 Individual Level.csv", "cp1252"),
    ("2020-09", "3.Primary Care Networks \u2013 September 2020 Individual Level.csv", "cp1252"),
    ("2020-12", "4.Primary Care Networks \u2013 December 2020 Individual Level.csv", "cp1252"),
    ("2021-03", "5.Primary Care Networks \u2013 March 2021 Individual Level.csv", "cp1252"),
    ("2021-06", "6.Primary Care Networks \u2013 June 2021 Individual Level.csv", "cp1252"),
    ("2021-09", "7.Primary Care Networks \u2013 September 2021 Individual Level.csv", "cp1252"),
    ("2021-12", "8.Primary Care Networks \u2013 December 2021 Individual Level.csv", "cp1252"),
    ("2022-03", "9.Primary Care Networks \u2013 March 2022 Individual Level.csv", "cp1252"),
    ("2022-06", "10.Primary Care Networks \u2013 June 2022 Individual Level.csv", "cp1252"),
    ("2022-09", "11.Primary Care Networks \u2013 September 2022 Individual Level.csv", "cp1252"),
    ("2026-06", "PCNWFIndividualCSV.062026.zip", "utf-8-sig"),
]
QOF = [
    ("2021-03", "PREVALENCE_2021_v2.csv", "integer_register"),
    ("2023-03", "PREVALENCE_2223.csv", "decimal_register"),
    ("2025-03", "PREVALENCE_2425.csv", "decimal_register"),
]

# Every fixture: (product, source folder, vintage, file name, a required column to drop)
ALL_FIXTURES = (
    [("prac_all", "gp_registrations", v, f, "NUMBER_OF_PATIENTS") for v, f, _, _ in PRAC_ALL]
    + [
        (
            "prac_map",
            "gp_registrations",
            v,
            f,
            "CCG_CODE" if s == "ccg" else "SUB_ICB_LOCATION_CODE",
        )
        for v, f, s, _ in PRAC_MAP
    ]
    + [("quin_age", "gp_registrations", v, f, "AGE_GROUP_5") for v, f, _, _ in QUIN_AGE]
    + [("workforce", "pcn_workforce", v, f, "FTE") for v, f, _ in WORKFORCE]
    + [("qof", "qof", v, f, "REGISTER") for v, f, _ in QOF]
)


# ---- independent reading of the raw bytes -------------------------------------------------


def member_bytes(path: Path) -> tuple[bytes, str | None]:
    """A plain file's bytes, or the data CSV inside a zip (and its member name)."""
    if path.suffix != ".zip":
        return path.read_bytes(), None
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        assert len(names) == 1, names
        return zf.read(names[0]), names[0]


def raw_text(raw: bytes) -> str:
    """UTF-8 with or without a byte-order mark; the 2020-22 workforce files are cp1252."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def raw_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(raw_text(member_bytes(path)[0]), newline="")))


def fixture(source: str, vintage: str, name: str) -> Path:
    path = VINTAGES / source / vintage / name
    assert path.is_file(), f"missing fixture {path}"
    return path


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def test_every_fixture_file_is_tested():
    on_disk = {
        p.relative_to(VINTAGES).as_posix()
        for p in VINTAGES.rglob("*")
        if p.is_file() and p.suffix in {".csv", ".zip"}
    }
    listed = {f"{s}/{v}/{f}" for _, s, v, f, _ in ALL_FIXTURES}
    assert on_disk == listed


def test_fixtures_are_small_and_documented():
    provenance = (VINTAGES / "PROVENANCE.md").read_text(encoding="utf-8")
    for _, source, vintage, name, _ in ALL_FIXTURES:
        path = fixture(source, vintage, name)
        assert path.stat().st_size < 200_000
        assert f"| {source}/{vintage}/{name} |" in provenance


# ---- registrations ---------------------------------------------------------------------------


@pytest.mark.parametrize(("vintage", "name", "schema", "published_date"), PRAC_ALL)
def test_prac_all_every_vintage(vintage: str, name: str, schema: str, published_date: str):
    path = fixture("gp_registrations", vintage, name)
    rows = raw_rows(path)
    assert {r["EXTRACT_DATE"] for r in rows} == {published_date}
    practice_rows = [r for r in rows if r["SEX"] == "ALL" and r["AGE"] == "ALL"]
    sub_icb = "CCG_CODE" if schema == "ccg" else "SUB_ICB_LOCATION_CODE"

    result = gp_registrations.read_prac_all(path)
    table = result.tables["list_sizes"].to_pydict()

    assert result.schema_version == schema
    assert result.period == vintage
    assert set(table["extract_date"]) == {date.fromisoformat(f"{vintage}-01")}
    assert result.mapped_columns["sub_icb_code"] == sub_icb
    assert len(table["practice_code"]) == len(practice_rows) > 0
    assert table["practice_code"] == [r["CODE"] for r in practice_rows]
    assert table["sub_icb_code"] == [r[sub_icb] for r in practice_rows]
    assert sum(table["registered_patients"]) == sum(
        int(r["NUMBER_OF_PATIENTS"]) for r in practice_rows
    )


@pytest.mark.parametrize(("vintage", "name", "schema", "published_date"), PRAC_MAP)
def test_prac_map_every_vintage(vintage: str, name: str, schema: str, published_date: str):
    path = fixture("gp_registrations", vintage, name)
    rows = raw_rows(path)
    assert {r["EXTRACT_DATE"] for r in rows} == {published_date}
    prefix_sub, prefix_icb = ("CCG", "STP") if schema == "ccg" else ("SUB_ICB_LOCATION", "ICB")

    result = gp_registrations.read_prac_map(path)
    table = result.tables["practice_mappings"].to_pydict()

    assert result.schema_version == schema
    assert result.period == vintage
    assert set(table["extract_date"]) == {date.fromisoformat(f"{vintage}-01")}
    assert len(table["practice_code"]) == len(rows) > 0
    assert table["practice_code"] == [r["PRACTICE_CODE"] for r in rows]
    assert table["pcn_code"] == [r["PCN_CODE"] for r in rows]
    assert table["pcn_code"].count("U") == sum(r["PCN_CODE"] == "U" for r in rows) > 0
    assert table["sub_icb_code"] == [r[f"{prefix_sub}_CODE"] for r in rows]
    assert table["sub_icb_name"] == [r[f"{prefix_sub}_NAME"] for r in rows]
    assert table["icb_code"] == [r[f"{prefix_icb}_CODE"] for r in rows]
    assert table["icb_name"] == [r[f"{prefix_icb}_NAME"] for r in rows]
    assert table["region_code"] == [r["COMM_REGION_CODE"] for r in rows]
    assert table["supplier_name"] == [r.get("SUPPLIER_NAME") for r in rows]
    assert result.mapped_columns["icb_code"] == f"{prefix_icb}_CODE"


def test_ccg_era_map_keeps_quoted_names_with_commas():
    path = fixture("gp_registrations", "2020-09", "gp-reg-pat-prac-map.csv")
    names = gp_registrations.read_prac_map(path).tables["practice_mappings"]["sub_icb_name"]
    assert "NHS Bath and North East Somerset, Swindon and Wiltshire CCG" in names.to_pylist()


@pytest.mark.parametrize(("vintage", "name", "schema", "published_date"), QUIN_AGE)
def test_quin_age_keeps_practice_rows_only(
    vintage: str, name: str, schema: str, published_date: str
):
    path = fixture("gp_registrations", vintage, name)
    rows = raw_rows(path)
    assert {r["EXTRACT_DATE"] for r in rows} == {published_date}
    gp = [r for r in rows if r["ORG_TYPE"] == "GP"]
    other_types = {r["ORG_TYPE"] for r in rows} - {"GP"}
    assert other_types == {"PCN", "SUB_ICB_LOCATION_CODE", "ICB", "Comm Region"}

    result = gp_registrations.read_quin_age(path)
    table = result.tables["age_bands"].to_pydict()

    assert result.product == "quin_age"
    assert result.schema_version == schema
    assert result.period == vintage
    assert set(table["extract_date"]) == {date.fromisoformat(published_date)}
    assert set(table["org_type"]) == {"GP"}
    assert len(table["org_code"]) == len(gp) > 0
    assert table["org_code"] == [r["ORG_CODE"] for r in gp]
    assert table["sex"] == [r["SEX"] for r in gp]
    assert table["age_group"] == [r["AGE_GROUP_5"] for r in gp]
    assert sum(table["registered_patients"]) == sum(int(r["NUMBER_OF_PATIENTS"]) for r in gp)
    # Each practice: its ALL/ALL row equals the sum of its male and female 5-year bands.
    totals: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    for code, sex, age, n in zip(
        table["org_code"],
        table["sex"],
        table["age_group"],
        table["registered_patients"],
        strict=True,
    ):
        if sex == "ALL" and age == "ALL":
            totals[code] += n
        elif sex in {"MALE", "FEMALE"} and age != "ALL":
            bands[code] += n
    assert totals == bands and len(totals) == len({r["ORG_CODE"] for r in gp})


def test_quin_age_reads_the_plain_csv_as_the_zip(tmp_path: Path):
    zipped = fixture("gp_registrations", "2026-07", "gp-reg-pat-prac-quin-age.zip")
    raw, member = member_bytes(zipped)
    plain = tmp_path / str(member)
    plain.write_bytes(raw)
    from_zip = gp_registrations.read_quin_age(zipped).tables["age_bands"]
    from_csv = gp_registrations.read_quin_age(plain).tables["age_bands"]
    assert from_csv.equals(from_zip)


def test_quin_age_bad_practice_code_names_the_row(tmp_path: Path):
    raw, member = member_bytes(
        fixture("gp_registrations", "2026-07", "gp-reg-pat-prac-quin-age.zip")
    )
    lines = raw.split(b"\r\n")
    number = next(i for i, line in enumerate(lines) if b",GP," in line)
    lines[number] = lines[number].replace(b",GP,", b",GP,X", 1)
    broken = tmp_path / str(member)
    broken.write_bytes(b"\r\n".join(lines))
    with pytest.raises(ReaderError, match=rf"row {number + 1}, column ORG_CODE: 'X"):
        gp_registrations.read_quin_age(broken)


# ---- PCN workforce ---------------------------------------------------------------------------


@pytest.mark.parametrize(("vintage", "name", "encoding"), WORKFORCE)
def test_workforce_every_vintage(vintage: str, name: str, encoding: str):
    path = fixture("pcn_workforce", vintage, name)
    raw, _ = member_bytes(path)
    rows = raw_rows(path)
    year, month = int(vintage[:4]), int(vintage[5:])
    assert {(r["CENSUS_YEAR"], r["CENSUS_MONTH"]) for r in rows} == {(str(year), str(month))}
    ftes = [float(r["FTE"]) for r in rows]
    no_identifier = [r["UNIQUE_IDENTIFIER"] in {"NULL", ""} for r in rows]

    result = pcn_workforce.read(path)
    table = result.tables["staff_records"].to_pydict()

    assert result.schema_version == encoding
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert result.period == vintage
    assert set(table["census_date"]) == {last_day(year, month)}
    assert len(table["pcn_code"]) == len(rows) > 0
    assert set(table["pcn_code"]) == {r["PCN_CODE"] for r in rows}
    assert table["pcn_name"] == [r["PCN_NAME"].strip() for r in rows]
    # FTE as published, negatives missing and flagged, never summed
    assert sum(v for v in table["fte"] if v is not None) == pytest.approx(
        sum(f for f in ftes if f >= 0)
    )
    assert sum(table["is_negative_fte"]) == sum(f < 0 for f in ftes)
    assert [v is None for v in table["fte"]] == [f < 0 for f in ftes]
    assert max(v for v in table["fte"] if v is not None) == max(ftes)
    # contracted services carry no identifier: `NULL` (2020-22) or blank (2026) becomes missing
    assert [v is None for v in table["unique_identifier"]] == no_identifier
    assert any(no_identifier)
    assert {r["Data_source"] for r, none in zip(rows, no_identifier, strict=True) if none} == {
        "NWRS contracted services"
    }
    headcount = {r["UNIQUE_IDENTIFIER"] for r, none in zip(rows, no_identifier, strict=True)}
    assert {v for v in table["unique_identifier"] if v is not None} == headcount - {"NULL", ""}
    # the en dash (0x96 in cp1252) survives in role names
    dashed = [r["DETAILED_STAFF_ROLE"] for r in rows if EN_DASH in r["DETAILED_STAFF_ROLE"]]
    assert dashed, "every real vintage has `Clinical Director – Medical` rows"
    assert [v for v in table["detailed_staff_role"] if EN_DASH in v] == dashed
    if encoding == "cp1252":
        assert raw.count(b"\x96") == sum(
            (r["STAFF_ROLE"] + r["DETAILED_STAFF_ROLE"]).count(EN_DASH) for r in rows
        )


def test_workforce_quirks_across_vintages():
    """The rules in the module docstring meet real records: zero, negative and large FTE."""
    tables = {
        v: pcn_workforce.read(fixture("pcn_workforce", v, n)).tables["staff_records"].to_pydict()
        for v, n, _ in WORKFORCE
    }
    assert 0.0 in tables["2020-03"]["fte"]
    for vintage in ("2021-09", "2021-12", "2022-03", "2022-06", "2022-09"):
        assert any(tables[vintage]["is_negative_fte"]), vintage
    assert max(v for v in tables["2021-06"]["fte"] if v is not None) == pytest.approx(14.12666667)
    roles_2026 = set(tables["2026-06"]["staff_role"])
    assert "Applied Psychologists \u2013 Clinical (Mental Health Practitioners)" in roles_2026
    assert any(r.endswith("(Mental Health Practitioners)") for r in roles_2026)


def test_workforce_zip_picks_the_csv_among_the_publishers_members():
    path = fixture("pcn_workforce", "2026-06", "PCNWFIndividualCSV.062026.zip")
    with zipfile.ZipFile(path) as zf:
        assert len(zf.namelist()) == 2  # the CSV and the publisher's definitions xlsx
    result = pcn_workforce.read(path)
    assert result.rows == len(raw_rows(path))


# ---- QOF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("vintage", "name", "schema"), QOF)
def test_qof_every_vintage(vintage: str, name: str, schema: str):
    path = fixture("qof", vintage, name)
    rows = raw_rows(path)
    end_year = int(vintage[:4])

    result = qof.read(path, vintage)
    table = result.tables["prevalence"].to_pydict()

    assert result.schema_version == schema
    assert ("." in rows[0]["REGISTER"]) == (schema == "decimal_register")
    assert result.period == vintage
    assert set(table["period_start"]) == {date(end_year - 1, 4, 1)}
    assert set(table["period_end"]) == {date(end_year, 3, 31)}
    assert len(table["practice_code"]) == len(rows) > 0
    for group, list_type in (("MH", "TOTAL"), ("DEP", "18OV")):
        raw_group = [r for r in rows if r["GROUP_CODE"] == group]
        assert {r["PATIENT_LIST_TYPE"] for r in raw_group} == {list_type}
        got = [
            (reg, size)
            for g, reg, size in zip(
                table["group_code"], table["register"], table["practice_list_size"], strict=True
            )
            if g == group
        ]
        assert sum(reg for reg, _ in got) == sum(float(r["REGISTER"]) for r in raw_group)
        assert sum(size for _, size in got) == sum(int(r["PRACTICE_LIST_SIZE"]) for r in raw_group)


def test_qof_vintage_must_match_the_year_in_the_file_name():
    path = fixture("qof", "2023-03", "PREVALENCE_2223.csv")
    with pytest.raises(
        ReaderError, match=r"PREVALENCE_2223\.csv: the file name is QOF year 2022-23"
    ):
        qof.read(path, "2025-03")


def test_qof_fractional_register_names_row_and_column(tmp_path: Path):
    text = fixture("qof", "2025-03", "PREVALENCE_2425.csv").read_text(encoding="utf-8")
    header, first, *rest = text.splitlines(keepends=True)
    fields = first.split(",")
    fields[2] = "12.5"
    broken = tmp_path / "PREVALENCE_2425.csv"
    broken.write_text(header + ",".join(fields) + "".join(rest), encoding="utf-8")
    with pytest.raises(ReaderError, match=r"row 2, column REGISTER: '12.5'"):
        qof.read(broken, "2025-03")


# ---- a dropped column, for every fixture ----------------------------------------------------


def drop_column(path: Path, column: str, target: Path) -> Path:
    """A copy of the fixture without one column, in the same encoding, BOM, line ends and zip."""
    raw, member = member_bytes(path)
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1252"), "cp1252"
    records = list(csv.reader(io.StringIO(text, newline="")))
    index = records[0].index(column)
    buffer = io.StringIO()
    ending = "\r\n" if b"\r\n" in raw else "\n"
    writer = csv.writer(buffer, lineterminator=ending)
    writer.writerows([cell for i, cell in enumerate(r) if i != index] for r in records)
    data = (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding)
    target.parent.mkdir(parents=True, exist_ok=True)
    if member is None:
        target.write_bytes(data)
    else:
        with zipfile.ZipFile(target, "w") as zf:
            zf.writestr(member, data)
    return target


@pytest.mark.parametrize(
    ("product", "source", "vintage", "name", "column"),
    ALL_FIXTURES,
    ids=[f"{s}/{v}/{f[:24]}" for _, s, v, f, _ in ALL_FIXTURES],
)
def test_dropped_column_names_the_file_and_the_column(
    tmp_path: Path, product: str, source: str, vintage: str, name: str, column: str
):
    broken = drop_column(fixture(source, vintage, name), column, tmp_path / name)
    with pytest.raises(ReaderError) as error:
        READERS[product](broken, vintage)
    message = str(error.value)
    assert name in message
    assert column in message
    assert "missing column" in message


# ---- the whole real corpus (skipped where it is absent) --------------------------------------


def raw_columns(path: Path, *names: str) -> dict[str, list[str]]:
    """Named columns of a raw CSV as lists (csv.reader, no dicts: 326,241 rows in one file)."""
    reader = csv.reader(io.StringIO(raw_text(member_bytes(path)[0]), newline=""))
    header = next(reader)
    index = [header.index(n) for n in names]
    columns: dict[str, list[str]] = {n: [] for n in names}
    for row in reader:
        for n, i in zip(names, index, strict=True):
            columns[n].append(row[i])
    return columns


@pytest.mark.real_corpus
@pytest.mark.skipif(not REAL.is_dir(), reason="real corpus ../shared/data/real is absent")
def test_real_corpus_every_vintage():
    """Every real registrations, workforce and QOF file: rows and totals against the raw bytes."""
    reg = REAL / "patients_registered"
    checked = 0
    totals: dict[str, tuple[int, int]] = {}
    for rel in (
        "2021-01/gp-reg-pat-prac-all.csv",
        "2025-04/gp-reg-pat-prac-all.zip",
        "2025-10_renamed/PracPopOct.csv",
        "2026-02_renamed/PracPopFeb26.csv",
    ):
        raw = raw_columns(reg / rel, "CODE", "NUMBER_OF_PATIENTS")
        table = gp_registrations.read_prac_all(reg / rel).tables["list_sizes"].to_pydict()
        assert table["practice_code"] == raw["CODE"], rel
        total = sum(map(int, raw["NUMBER_OF_PATIENTS"]))
        assert sum(table["registered_patients"]) == total, rel
        totals[rel] = (len(raw["CODE"]), total)
        checked += 1
    assert totals["2025-04/gp-reg-pat-prac-all.zip"] == (6_239, 63_769_849)

    for vintage in ("2020-09", "2022-01", "2026-01"):
        path = reg / vintage / "gp-reg-pat-prac-map.csv"
        raw = raw_columns(path, "PRACTICE_CODE", "PCN_CODE")
        result = gp_registrations.read_prac_map(path)
        table = result.tables["practice_mappings"].to_pydict()
        assert result.period == vintage
        assert table["practice_code"] == raw["PRACTICE_CODE"], vintage
        assert table["pcn_code"] == raw["PCN_CODE"], vintage
        checked += 1

    path = reg / "2026-07/gp-reg-pat-prac-quin-age.zip"
    raw = raw_columns(path, "ORG_TYPE", "ORG_CODE", "NUMBER_OF_PATIENTS")
    gp = [i for i, t in enumerate(raw["ORG_TYPE"]) if t == "GP"]
    table = gp_registrations.read_quin_age(path).tables["age_bands"].to_pydict()
    assert len(raw["ORG_TYPE"]) == 326_241
    assert len(table["org_code"]) == len(gp) == 263_977
    assert table["org_code"] == [raw["ORG_CODE"][i] for i in gp]
    assert sum(table["registered_patients"]) == sum(int(raw["NUMBER_OF_PATIENTS"][i]) for i in gp)
    checked += 1

    workforce = sorted((REAL / "pcn_workforce/individual_level").glob("*.csv"))
    workforce.append(REAL / "pcn_workforce/2026-06/PCNWFIndividualCSV.062026.zip")
    assert len(workforce) == 12
    for path in workforce:
        raw = raw_columns(path, "PCN_CODE", "FTE", "UNIQUE_IDENTIFIER")
        result = pcn_workforce.read(path)
        table = result.tables["staff_records"].to_pydict()
        assert table["pcn_code"] == raw["PCN_CODE"], path.name
        fte = sum(f for f in map(float, raw["FTE"]) if f >= 0)
        assert sum(v for v in table["fte"] if v is not None) == pytest.approx(fte), path.name
        people = set(raw["UNIQUE_IDENTIFIER"]) - {"NULL", ""}
        assert {v for v in table["unique_identifier"] if v is not None} == people, path.name
        assert result.schema_version == ("utf-8-sig" if path.suffix == ".zip" else "cp1252")
        if path.suffix == ".zip":
            assert (len(raw["PCN_CODE"]), len(set(raw["PCN_CODE"]))) == (39_940, 1_271)
        checked += 1

    for folder, name, mh in (
        ("2020-21", "PREVALENCE_2021_v2.csv", 574_227),
        ("2022-23", "PREVALENCE_2223.csv", 621_898),
        ("2024-25", "PREVALENCE_2425.csv", 648_282),
    ):
        path = REAL / "qof" / folder / name
        raw = raw_columns(path, "GROUP_CODE", "REGISTER")
        table = qof.read(path, f"20{folder[-2:]}-03").tables["prevalence"].to_pydict()
        assert table["group_code"] == raw["GROUP_CODE"], name
        got = sum(
            r for g, r in zip(table["group_code"], table["register"], strict=True) if g == "MH"
        )
        expected = sum(
            float(r) for g, r in zip(raw["GROUP_CODE"], raw["REGISTER"], strict=True) if g == "MH"
        )
        assert got == expected == mh, name
        checked += 1
    assert checked == 4 + 3 + 1 + 12 + 3
