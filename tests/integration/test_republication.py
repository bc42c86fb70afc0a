"""Reruns and revisions (issue 7): a run whose inputs and code are already published rebuilds
nothing; a publisher's revision of a landed file makes the next run republish the period, and
the release says what changed (manifest, run summary, changes page)."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from flows.landing import land_file
from tests.conftest import FIXTURE_LANDING, FIXTURE_PERIOD

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QOF = Path("qof/2025-03/PREVALENCE_2425.csv")


def _copy_publication(fixture_build: dict, out: Path) -> Path:
    """The fixture run's published release, copied with its link: the same inputs and code."""
    release = fixture_build["site"].resolve()
    shutil.copytree(release, out / "releases" / release.name, symlinks=True)
    os.symlink(f"releases/{release.name}", out / "site")
    return release


def _smi_register_doubled_at(practice: str, source: Path, target: Path) -> None:
    """The publisher's revised QOF file: one practice's SMI (MH) register corrected."""
    with source.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    hits = 0
    for row in rows[1:]:
        if row[0] == practice and row[1] == "MH":
            row[2] = f"{float(row[2]) * 2:.1f}"
            hits += 1
    assert hits == 1
    with target.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _smi_values(site: Path) -> dict[str, str]:
    with (site / "data/indicators.csv").open(encoding="utf-8") as fh:
        return {
            r["pcn_code"]: r["value"]
            for r in csv.DictReader(fh)
            if r["indicator_id"] == "smi_prevalence" and r["period_end"] == "2025-03-31"
        }


def test_an_unchanged_rerun_rebuilds_nothing_and_a_revision_republishes(
    fixture_build: dict, tmp_path: Path
):
    from flows.pipeline import publish_benchmark

    landing, out = tmp_path / "landing", tmp_path / "out"
    shutil.copytree(FIXTURE_LANDING, landing)
    published = _copy_publication(fixture_build, out)
    run = {"period": FIXTURE_PERIOD, "data_dir": str(landing), "out_dir": str(out)}

    rerun = publish_benchmark(**run)
    assert rerun["reused"] is True and rerun["release_id"] == published.name
    assert rerun["replaces"] is None
    assert set(rerun["timings"]) == {"land", "publish"}  # nothing normalised, built or drawn
    assert [p.name for p in (out / "releases").iterdir()] == [published.name]
    assert (out / "site").resolve() == (out / "releases" / published.name).resolve()

    revised = tmp_path / QOF.name
    _smi_register_doubled_at("L82001", landing / QOF, revised)
    landed = land_file(
        revised, landing, "qof", "2025-03", origin="test", landed_at="2026-08-03T09:00:00Z"
    )
    assert landed == landing / "qof/2025-03/revisions/2026-08-03" / QOF.name

    republished = publish_benchmark(**run)
    assert republished["reused"] is False
    site = (out / "site").resolve()
    assert site.name == republished["release_id"] != published.name
    assert republished["replaces"] == {
        "release_id": published.name,
        "changed_inputs": [
            {
                "source": "qof",
                "product": "prevalence",
                "vintage": "2025-03",
                "file": QOF.name,
                "change": "revised",
                "sha256_before": republished["replaces"]["changed_inputs"][0]["sha256_before"],
                "sha256_now": republished["replaces"]["changed_inputs"][0]["sha256_now"],
            }
        ],
    }
    change = republished["replaces"]["changed_inputs"][0]
    assert change["sha256_before"] != change["sha256_now"]
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replaces"] == republished["replaces"]

    # the changes log says which source the publisher revised, and when it landed
    changes_page = " ".join((site / "changes.html").read_text(encoding="utf-8").split())
    assert "revised by its publisher</strong> (revision landed 3 August 2026)" in changes_page
    assert (
        "<tr><td>Quality and Outcomes Framework: prevalence</td><td>2025-03</td>"
        f"<td>{QOF.name}</td>"
        "<td>3 August 2026</td></tr>" in changes_page
    )
    unchanged_page = " ".join((published / "changes.html").read_text(encoding="utf-8").split())
    assert "None: no file used in this release was revised by its publisher" in unchanged_page

    # the revision reached the figures: only the PCN of practice L82001 moves
    before, after = _smi_values(published), _smi_values(site)
    moved = [code for code in before if before[code] != after[code]]
    assert len(moved) == 1 and float(after[moved[0]]) > float(before[moved[0]])

    # and the revised publication is now the one the daily recheck finds unchanged
    again = publish_benchmark(data_dir=str(landing), out_dir=str(out), republish=True)
    assert again["reused"] is True and again["release_id"] == site.name
    assert again["period"] == FIXTURE_PERIOD
