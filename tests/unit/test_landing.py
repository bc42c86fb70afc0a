from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows import landing
from tests.conftest import FIXTURE_LANDING

pytestmark = pytest.mark.unit


def test_scan_finds_each_product_and_prefers_the_extracted_file():
    found = {(f.source, f.product): f for f in landing.scan(FIXTURE_LANDING)}
    assert set(found) == {
        ("ods_epcn", "epcn"),
        ("gp_registrations", "prac_all"),
        ("gp_registrations", "prac_map"),
        ("pcn_workforce", "individual"),
        ("qof", "prevalence"),
        ("gp_registrations", "quin_age"),
        ("imd", "practice_scores"),
        ("gp_workforce", "practice_detailed"),
        ("talking_therapies", "annual"),
    }
    assert found[("pcn_workforce", "individual")].path.suffix == ".csv"


def test_select_for_period_takes_latest_vintage_on_or_before():
    files = landing.scan(FIXTURE_LANDING)
    chosen = landing.select_for_period(files, "2026-02")
    assert chosen[("gp_registrations", "prac_map")].vintage == "2026-01"
    assert chosen[("gp_registrations", "prac_all")].vintage == "2021-01"  # not 2026-03: later
    assert chosen[("pcn_workforce", "individual")].vintage == "2022-09"
    assert landing.latest_vintage(files) == "2026-07"


def test_series_products_keep_every_vintage_for_the_trend():
    files = landing.select_with_series(landing.scan(FIXTURE_LANDING), "2026-07")
    workforce = [f.vintage for f in files if f.source == "pcn_workforce"]
    assert len(workforce) == 12 and workforce[0] == "2020-03" and workforce[-1] == "2026-06"
    qof = [f.vintage for f in files if f.source == "qof"]
    assert qof == ["2025-03"]  # not a series: the latest only


def test_a_modified_landed_file_is_refused(landing_copy: Path):
    target = landing_copy / "qof/2025-03/PREVALENCE_2425.csv"
    target.write_bytes(target.read_bytes() + b"A00000,MH,1.0,TOTAL,10\n")
    landed = next(f for f in landing.scan(landing_copy) if f.source == "qof")
    with pytest.raises(landing.LandingError, match="does not match its manifest"):
        landing.verify(landed)


def test_land_file_is_idempotent_and_lands_a_revision(tmp_path: Path):
    src = tmp_path / "PREVALENCE_2425.csv"
    src.write_text("PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\n")
    data = tmp_path / "raw"
    first = landing.land_file(
        src,
        data,
        "qof",
        "2025-03",
        origin="https://example.test/a.csv",
        landed_at="2026-01-01T00:00:00Z",
    )
    again = landing.land_file(
        src,
        data,
        "qof",
        "2025-03",
        origin="https://example.test/a.csv",
        landed_at="2026-02-01T00:00:00Z",
    )
    assert first == again
    src.write_text(src.read_text() + "A81001,MH,1,TOTAL,100\n")
    revised = landing.land_file(
        src,
        data,
        "qof",
        "2025-03",
        origin="https://example.test/a.csv",
        landed_at="2026-03-01T00:00:00Z",
    )
    assert revised == data / "qof/2025-03/revisions/2026-03-01/PREVALENCE_2425.csv"
    assert first.read_text().count("\n") == 1  # the landed file was not modified
    manifest = json.loads((revised.parent / "_manifest.json").read_text())
    assert manifest["files"][0]["url"] == "https://example.test/a.csv"
    [latest] = [f for f in landing.scan(data) if f.source == "qof"]
    assert latest.path == revised


def test_revising_one_file_keeps_the_vintages_other_files(tmp_path: Path):
    data = tmp_path / "raw"
    prac_all = tmp_path / "gp-reg-pat-prac-all.csv"
    prac_map = tmp_path / "gp-reg-pat-prac-map.csv"
    prac_all.write_text("v1\n")
    prac_map.write_text("map\n")
    for src in (prac_all, prac_map):
        landing.land_file(
            src, data, "gp_registrations", "2026-01", origin="o", landed_at="2026-01-05T00:00:00Z"
        )
    prac_all.write_text("v2\n")
    landing.land_file(
        prac_all, data, "gp_registrations", "2026-01", origin="o", landed_at="2026-02-01T00:00:00Z"
    )
    found = {f.product: f.path for f in landing.scan(data)}
    assert found["prac_all"].read_text() == "v2\n"
    assert found["prac_map"].read_text() == "map\n"  # not hidden by the other file's revision


def test_a_second_revision_the_same_day_and_a_return_to_the_original_both_land(tmp_path: Path):
    data = tmp_path / "raw"
    src = tmp_path / "PREVALENCE_2425.csv"
    paths = []
    for text in ("v1\n", "v2\n", "v3\n", "v1\n"):
        src.write_text(text)
        paths.append(
            landing.land_file(
                src, data, "qof", "2025-03", origin="o", landed_at="2026-02-01T00:00:00Z"
            )
        )
    assert len(set(paths)) == 4  # nothing overwritten
    assert [p.read_text() for p in paths] == ["v1\n", "v2\n", "v3\n", "v1\n"]
    [current] = [f for f in landing.scan(data) if f.source == "qof"]
    assert current.path == paths[-1]


def test_a_second_revision_on_one_day_is_dated_by_its_landing_day(tmp_path: Path):
    """The changes page dates revisions: a second one the same day lands in <date>-2/ and is
    still dated that day, on the sources table and in the list of revisions used."""
    import shutil

    from flows.changes import revisions_in_use, source_changes

    zone = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, zone)
    qof = zone / "qof/2025-03/PREVALENCE_2425.csv"
    text = qof.read_text(encoding="utf-8")
    for n, landed_at in enumerate(("2026-08-03T09:00:00Z", "2026-08-03T15:00:00Z"), start=1):
        revised = tmp_path / f"v{n}" / qof.name
        revised.parent.mkdir()
        revised.write_text(text + f"L99999,MH,{n}.0,TOTAL,100\n", encoding="utf-8")
        landing.land_file(revised, zone, "qof", "2025-03", origin="test", landed_at=landed_at)
    landed = landing.scan(zone)
    [row] = [r for r in source_changes(landed, "2026-07") if r["source"] == "qof"]
    assert row["revised_on"] == "2026-08-03" and row["file"] == qof.name
    used = landing.select_with_series(landed, "2026-07")
    assert [r["revised_on"] for r in revisions_in_use(used, "2026-07")] == ["2026-08-03"]
    assert [f.path.parent.name for f in used if f.source == "qof"] == ["2026-08-03-2"]
