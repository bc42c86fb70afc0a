"""The benchmark's input generator (benchmarks/generate.py): what it lands must be read by the
real readers and the landing scan exactly as the publishers' files are."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from flows import landing
from flows.sources import identify

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402

FIXTURE_LANDING = ROOT / "tests" / "fixtures" / "landing"
MONTHLY = {("gp_registrations", "prac_all"), ("gp_registrations", "quin_age")}
MONTHLY |= {("pcn_workforce", "individual"), ("talking_therapies", "monthly")}

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> generate.Zone:
    return generate.build_zone(FIXTURE_LANDING, tmp_path_factory.mktemp("zone"), periods=2)


def _status(file: landing.LandedFile) -> str:
    entry = next(
        f for f in landing.read_manifest(file.path.parent)["files"] if f["name"] == file.path.name
    )
    return entry.get("status", "real")


def test_every_monthly_product_lands_once_a_month(zone: generate.Zone) -> None:
    assert zone.periods == ["2026-06", "2026-07"]
    landed = landing.scan(zone.data_dir)
    for source, product in MONTHLY:
        vintages = sorted(f.vintage for f in landed if (f.source, f.product) == (source, product))
        assert vintages == zone.periods, (source, product)
    # nothing older than the window for the monthly products (the 2020-22 series is left out)
    assert not [f for f in landed if (f.source, f.product) in MONTHLY and f.vintage < "2026-06"]


def test_real_readers_read_every_landed_file_for_its_month(zone: generate.Zone) -> None:
    for file in landing.scan(zone.data_dir):
        landing.verify(file)  # the manifest's bytes and sha256 match
        assert identify(file.path) is file.spec, file.path.name  # published names recognised
        result = file.spec.read(file.path, file.vintage)
        assert result.rows > 0, file.path
        if (file.source, file.product) in MONTHLY:
            assert result.period == file.vintage, file.path


def test_derived_files_are_marked_synthetic_and_real_ones_keep_their_status(
    zone: generate.Zone,
) -> None:
    landed = landing.scan(zone.data_dir)
    statuses = {(f.source, f.product, f.vintage): _status(f) for f in landed}
    # the fixture has real files for these months: landed as they are
    assert statuses[("pcn_workforce", "individual", "2026-06")] == "real"
    assert statuses[("gp_registrations", "quin_age", "2026-07")] == "real"
    assert statuses[("gp_workforce", "practice_detailed", "2026-05")] == "rebuilt"
    # and derived for the others
    assert statuses[("pcn_workforce", "individual", "2026-07")] == "synthetic"
    assert statuses[("gp_registrations", "prac_all", "2026-07")] == "synthetic"
    assert statuses[("talking_therapies", "monthly", "2026-07")] == "synthetic"
    synthetic_entries = [
        entry
        for manifest in zone.data_dir.rglob("_manifest.json")
        for entry in landing.read_manifest(manifest.parent)["files"]
        if entry.get("status") == "synthetic"
    ]
    assert len(synthetic_entries) == zone.generated


def test_derived_files_keep_the_publishers_header_encoding_and_practices(
    zone: generate.Zone,
) -> None:
    real_csv = next((FIXTURE_LANDING / "pcn_workforce" / "2026-06").glob("*Individual Level.csv"))
    derived_csv = next((zone.data_dir / "pcn_workforce" / "2026-07").glob("*Individual Level.csv"))
    assert derived_csv.name == real_csv.name.replace("June 2026", "July 2026")
    real_head, derived_head = real_csv.read_bytes()[:400], derived_csv.read_bytes()[:400]
    assert derived_head.split(b"\r\n")[0] == real_head.split(b"\r\n")[0]  # BOM, header, CRLF
    assert (zone.data_dir / "pcn_workforce" / "2026-07" / "PCNWFIndividualCSV.072026.zip").is_file()

    landed = {(f.source, f.product, f.vintage): f for f in landing.scan(zone.data_dir)}
    real = landed[("gp_registrations", "prac_all", "2026-06")].spec.read(
        FIXTURE_LANDING / "gp_registrations" / "2026-03" / "gp-reg-pat-prac-all.csv", None
    )
    derived_file = landed[("gp_registrations", "prac_all", "2026-07")]
    derived = derived_file.spec.read(derived_file.path, derived_file.vintage)
    real_sizes = real.tables["list_sizes"].to_pydict()
    derived_sizes = derived.tables["list_sizes"].to_pydict()
    assert sorted(derived_sizes["practice_code"]) == sorted(real_sizes["practice_code"])
    # list sizes drift a little from the real month, never wildly
    by_code = dict(zip(real_sizes["practice_code"], real_sizes["registered_patients"], strict=True))
    for code, n in zip(
        derived_sizes["practice_code"], derived_sizes["registered_patients"], strict=True
    ):
        assert abs(n - by_code[code]) <= 0.02 * by_code[code] + 1, code


def test_the_same_seed_gives_the_same_files(zone: generate.Zone, tmp_path: Path) -> None:
    again = generate.build_zone(FIXTURE_LANDING, tmp_path / "again", periods=2)
    first = {f.path.relative_to(zone.data_dir): f.sha256 for f in landing.scan(zone.data_dir)}
    second = {f.path.relative_to(again.data_dir): f.sha256 for f in landing.scan(again.data_dir)}
    assert first == second


def test_month_range_crosses_years() -> None:
    assert generate.month_range("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert generate.months_between("2025-11", "2026-02") == 3
