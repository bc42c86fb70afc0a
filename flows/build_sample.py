"""Maintainers only: rebuild `data/sample/` (and nothing else) from the real files in ../shared.

Run as `python -m flows.build_sample --shared ../shared/data/real`. Nothing at run or test time
imports this module; the bundled sample it writes is committed with its provenance rows.
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from pathlib import Path

from flows.landing import land_file

LANDED_AT = "2026-11-25T00:00:00Z"  # fixed, so rebuilding the sample gives identical manifests

# (source, vintage, path under shared real/, published file name, note)
SAMPLE = (
    ("ods_epcn", "2025-01", "ods/ePCN_2025-01/ePCN.xlsx", "ePCN.xlsx", ""),
    (
        "gp_registrations",
        "2026-01",
        "patients_registered/2026-01/gp-reg-pat-prac-map.csv",
        "gp-reg-pat-prac-map.csv",
        "",
    ),
    (
        "gp_registrations",
        "2026-03",
        "patients_registered/2026-02_renamed/PracPopFeb26.csv",
        "gp-reg-pat-prac-all.csv",
        "renamed PracPopFeb26.csv by the repository owner; EXTRACT_DATE 2026-03-01 inside; "
        "landed under its published name",
    ),
    (
        "pcn_workforce",
        "2026-06",
        "pcn_workforce/2026-06/PCNWFIndividualCSV.062026.zip",
        "PCNWFIndividualCSV.062026.zip",
        "",
    ),
    ("qof", "2025-03", "qof/2024-25/PREVALENCE_2425.csv", "PREVALENCE_2425.csv", ""),
    ("imd", "2019-09", "fingertips_imd/2019/indicator-data.csv", "indicator-data.csv", ""),
    # list sizes nearest the 2020-22 workforce censuses (the trend's denominators)
    (
        "gp_registrations",
        "2021-01",
        "patients_registered/2021-01/gp-reg-pat-prac-all.csv",
        "gp-reg-pat-prac-all.csv",
        "CCG-era columns",
    ),
    (
        "gp_registrations",
        "2025-04",
        "patients_registered/2025-04/gp-reg-pat-prac-all.zip",
        "gp-reg-pat-prac-all.zip",
        "the publisher's zip",
    ),
    (
        "gp_registrations",
        "2026-07",
        "patients_registered/2026-07/gp-reg-pat-prac-quin-age.zip",
        "gp-reg-pat-prac-quin-age.zip",
        "",
    ),
)

# the quarterly PCN workforce series of 2020-22 (the trend), as the files were named
WORKFORCE_SERIES = {
    "2020-03": "1.Primary Care Networks \u2013 March 2020 Individual Level.csv",
    "2020-06": "2.Primary Care Networks \u2013 June 2020 Individual Level.csv",
    "2020-09": "3.Primary Care Networks \u2013 September 2020 Individual Level.csv",
    "2020-12": "4.Primary Care Networks \u2013 December 2020 Individual Level.csv",
    "2021-03": "5.Primary Care Networks \u2013 March 2021 Individual Level.csv",
    "2021-06": "6.Primary Care Networks \u2013 June 2021 Individual Level.csv",
    "2021-09": "7.Primary Care Networks \u2013 September 2021 Individual Level.csv",
    "2021-12": "8.Primary Care Networks \u2013 December 2021 Individual Level.csv",
    "2022-03": "9.Primary Care Networks \u2013 March 2022 Individual Level.csv",
    "2022-06": "10.Primary Care Networks \u2013 June 2022 Individual Level.csv",
    "2022-09": "11.Primary Care Networks \u2013 September 2022 Individual Level.csv",
}
SAMPLE += tuple(
    ("pcn_workforce", vintage, f"pcn_workforce/individual_level/{name}", name, "cp1252")
    for vintage, name in WORKFORCE_SERIES.items()
)

EXTRACT = {
    "PCNWFIndividualCSV.062026.zip": r"Individual Level.csv",
    "GPWPracticeCSV.052026.zip": r"Practice Level - Detailed.csv",
    "gp-reg-pat-prac-quin-age.zip": r"gp-reg-pat-prac-quin-age.csv",
    "gp-reg-pat-prac-all.zip": r"gp-reg-pat-prac-all.csv",
}
GP_WORKFORCE_SEED = 20260531


def land_extracted(target: Path, data_dir: Path, source: str, vintage: str, extra: dict) -> None:
    """Land the members of a landed zip that the readers use, next to it."""
    with zipfile.ZipFile(target) as zf:
        for member in zf.namelist():
            if member.endswith(EXTRACT[target.name]) and "/" not in member and ".." not in member:
                out = target.parent / ".extract.tmp"
                out.write_bytes(zf.read(member))
                land_file(
                    out,
                    data_dir,
                    source,
                    vintage,
                    origin=f"{target.name}!{member}",
                    name=member,
                    landed_at=LANDED_AT,
                    extra={"extracted_from": target.name, **extra},
                )
                out.unlink()


def build_rebuilt(shared_real: Path, data_dir: Path, work: Path) -> None:
    """Files rebuilt in the publishers' exact formats from real figures (status "rebuilt")."""
    from flows.synthetic import gp_workforce, talking_therapies

    annual = work / "psych-ther-ann-rep-csv-2024-25-main2.csv"
    talking_therapies.rebuild_annual_main(
        shared_real / "talking_therapies/nhstt_parquet/measures_annual.parquet",
        shared_real / "talking_therapies/annual_main_header_fixture_2024-25/2024-25.csv",
        annual,
        year="2024-25",
    )
    land_file(
        annual,
        data_dir,
        "talking_therapies",
        "2025-03",
        origin="rebuilt by flows.synthetic.talking_therapies.rebuild_annual_main from the real "
        "ICB-level 2024-25 figures (shared/data/real/talking_therapies/nhstt_parquet)",
        landed_at=LANDED_AT,
        extra={"status": "rebuilt"},
    )
    result = gp_workforce.rebuild_detailed_csv(
        shared_real / "gp_workforce/definitions_2025-11/gpw_detailed_columns_extracted.tsv",
        shared_real / "gp_workforce/2026-05/gp_composition_may26.csv",
        data_dir / "gp_registrations/2026-01/gp-reg-pat-prac-map.csv",
        GP_WORKFORCE_SEED,
        work / "GPWPracticeCSV.052026.zip",
        patients_csv=data_dir / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv",
        period="2026-05",
    )
    extra = {"status": "rebuilt", "synthetic_columns": list(result.synthetic_columns)}
    target = land_file(
        result.out_zip,
        data_dir,
        "gp_workforce",
        "2026-05",
        origin="rebuilt by flows.synthetic.gp_workforce.rebuild_detailed_csv (seed "
        f"{GP_WORKFORCE_SEED}): real GP, nurse, DPC and admin FTE totals of May 2026; "
        "finer mental-health columns synthetic",
        landed_at=LANDED_AT,
        extra=extra,
    )
    land_extracted(target, data_dir, "gp_workforce", "2026-05", extra)


def build(shared_real: Path, data_dir: Path) -> None:
    for source, vintage, rel, name, note in SAMPLE:
        src = shared_real / rel
        origin = f"shared/data/real/{rel} (see data/sample/PROVENANCE.md)"
        extra = {"note": note} if note else {}
        target = land_file(
            src,
            data_dir,
            source,
            vintage,
            origin=origin,
            name=name,
            landed_at=LANDED_AT,
            extra=extra,
        )
        if name in EXTRACT:
            land_extracted(target, data_dir, source, vintage, {})
    with tempfile.TemporaryDirectory() as work:
        build_rebuilt(shared_real, data_dir, Path(work))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, required=True, help="path to shared/data/real")
    parser.add_argument("--data-dir", type=Path, default=Path("data/sample"))
    args = parser.parse_args()
    build(args.shared, args.data_dir)
