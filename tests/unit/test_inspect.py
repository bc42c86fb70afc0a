"""`pcn-benchmark inspect`: names a file's source, schema vintage and period, even when renamed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.sources import identify
from tests.conftest import FIXTURE_LANDING, ROOT

pytestmark = pytest.mark.unit

REAL = ROOT.parent / "shared" / "data" / "real"
runner = CliRunner()


def inspect(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["inspect", str(path)])
    return result.exit_code, result.output


def test_inspect_reports_source_schema_period_rows_and_columns():
    code, output = inspect(FIXTURE_LANDING / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv")
    assert code == 0
    report = json.loads(output)
    assert (report["source"], report["product"]) == ("gp_registrations", "prac_all")
    assert report["schema_version"] == "sub_icb"
    assert report["period"] == "2026-03"
    lines = (FIXTURE_LANDING / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv").read_text()
    assert report["rows"] == lines.count("\n") - 1
    assert report["columns"]["practice_code"] == "CODE"


def test_a_renamed_copy_is_recognised_by_its_header(tmp_path: Path):
    renamed = tmp_path / "PracPopFeb26.csv"  # as a repository owner renamed the March 2026 file
    shutil.copy(FIXTURE_LANDING / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv", renamed)
    assert identify(renamed).product == "prac_all"
    code, output = inspect(renamed)
    assert code == 0 and json.loads(output)["period"] == "2026-03"


def test_an_unknown_file_and_a_broken_file_fail_with_one_line(tmp_path: Path):
    unknown = tmp_path / "lookup.csv"
    unknown.write_text("CCG_CODE,ICB_CODE\n00C,QHM\n")
    code, output = inspect(unknown)
    assert code == 1
    assert "lookup.csv" in output and len(output.strip().splitlines()) == 1
    broken = tmp_path / "PREVALENCE_2425.csv"
    text = (FIXTURE_LANDING / "qof/2025-03/PREVALENCE_2425.csv").read_text()
    broken.write_text(text.replace("GROUP_CODE", "GROUP", 1))
    code, output = inspect(broken)
    assert code == 1
    assert "PREVALENCE_2425.csv" in output and "GROUP_CODE" in output


# Every publisher's file under shared/data/real, with the source it must be named as.
EXPECTED = {
    "fingertips_imd/2019/indicator-data.csv": "imd",
    "ods/ePCN_2019-12/ePCN.xlsx": "ods_epcn",
    "ods/ePCN_2022-04/ePCN.xlsx": "ods_epcn",
    "ods/ePCN_2023-01/ePCN.xlsx": "ods_epcn",
    "ods/ePCN_2025-01/ePCN.xlsx": "ods_epcn",
    "ods/epcn_zip_2022-04/epcn.zip": "ods_epcn",
    "ods/ePCN_2022-04/epraccur.csv": "ods_epraccur",
    "ods/ePCN_2023-01/epraccur.csv": "ods_epraccur",
    "ods/epraccur_2025-05/epraccur.csv": "ods_epraccur",
    "ods/epraccur_2026_head_sample/epraccur_HEAD_SAMPLE.csv": "ods_epraccur",
    "patients_registered/2020-09/gp-reg-pat-prac-map.csv": "gp_registrations",
    "patients_registered/2021-01/gp-reg-pat-prac-all.csv": "gp_registrations",
    "patients_registered/2022-01/gp-reg-pat-prac-map.csv": "gp_registrations",
    "patients_registered/2025-04/gp-reg-pat-prac-all.zip": "gp_registrations",
    "patients_registered/2025-10_renamed/PracPopOct.csv": "gp_registrations",
    "patients_registered/2026-01/gp-reg-pat-prac-map.csv": "gp_registrations",
    "patients_registered/2026-02_renamed/PracPopFeb26.csv": "gp_registrations",
    "patients_registered/2026-07/gp-reg-pat-prac-quin-age.zip": "gp_registrations",
    "pcn_workforce/2026-06/PCNWFIndividualCSV.062026.zip": "pcn_workforce",
    "qof/2020-21/PREVALENCE_2021_v2.csv": "qof",
    "qof/2022-23/PREVALENCE_2223.csv": "qof",
    "qof/2024-25/PREVALENCE_2425.csv": "qof",
    "talking_therapies/annual_main_header_fixture_2019-20/2019-20.csv": "talking_therapies",
    "talking_therapies/annual_main_header_fixture_2024-25/2024-25.csv": "talking_therapies",
    "talking_therapies/monthly_raw_fixture_heads_2023-05/2023-05.csv": "talking_therapies",
    "talking_therapies/monthly_raw_fixture_heads_2025-06/2025-06.csv": "talking_therapies",
    "talking_therapies/monthly_raw_fixture_heads_2025-09/2025-09.csv": "talking_therapies",
}


@pytest.mark.real_corpus
def test_inspect_names_every_real_publisher_file():
    if not REAL.is_dir():
        pytest.skip("shared/data/real is not here")
    workforce = sorted((REAL / "pcn_workforce/individual_level").glob("*.csv"))
    assert len(workforce) == 11
    expected = {**EXPECTED, **{str(p.relative_to(REAL)): "pcn_workforce" for p in workforce}}
    for relative, source in expected.items():
        code, output = inspect(REAL / relative)
        assert code == 0, (relative, output)
        assert json.loads(output)["source"] == source, relative
