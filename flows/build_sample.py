"""Maintainers only: rebuild `data/sample/` (and nothing else) from the real files in ../shared.

Run as `python -m flows.build_sample --shared ../shared/data/real`. Nothing at run or test time
imports this module; the bundled sample it writes is committed with its provenance rows.
"""

from __future__ import annotations

import argparse
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
)

EXTRACT = {"PCNWFIndividualCSV.062026.zip": r"Individual Level.csv"}


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
            with zipfile.ZipFile(target) as zf:
                for member in zf.namelist():
                    if member.endswith(EXTRACT[name]) and "/" not in member and ".." not in member:
                        out = target.parent / ".extract.tmp"
                        out.write_bytes(zf.read(member))
                        land_file(
                            out,
                            data_dir,
                            source,
                            vintage,
                            origin=f"{name}!{member}",
                            name=member,
                            landed_at=LANDED_AT,
                            extra={"extracted_from": name},
                        )
                        out.unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, required=True, help="path to shared/data/real")
    parser.add_argument("--data-dir", type=Path, default=Path("data/sample"))
    args = parser.parse_args()
    build(args.shared, args.data_dir)
