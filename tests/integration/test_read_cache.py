"""Landed files are read once per checksum: Prefect's cache, kept under the output's work folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import landing, normalise
from flows.pipeline import normalise_inputs
from tests.conftest import FIXTURE_PERIOD

pytestmark = pytest.mark.integration


def test_an_unchanged_file_is_not_read_again_and_force_reads_everything(
    prefect_harness, landing_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    reads: list[str] = []
    real_read = normalise.read_to_parquet

    def counting_read(landed, folder):
        reads.append(f"{landed.source}/{landed.vintage}/{landed.path.name}")
        return real_read(landed, folder)

    monkeypatch.setattr(normalise, "read_to_parquet", counting_read)
    cache = tmp_path / "out" / "work" / "cache"

    def selected() -> list[landing.LandedFile]:
        return landing.select_with_series(landing.scan(landing_copy), FIXTURE_PERIOD)

    first = normalise_inputs(selected(), tmp_path / "run1", cache, False)
    assert len(reads) == len(selected()) > 10
    assert (cache / "results").is_dir() and (cache / "read").is_dir()

    reads.clear()
    second = normalise_inputs(selected(), tmp_path / "run2", cache, False)
    assert reads == []  # every file came from the cache
    assert second == first
    for table in (tmp_path / "run1").glob("*.parquet"):
        assert (tmp_path / "run2" / table.name).read_bytes() == table.read_bytes()

    # a revised file (a new checksum) is read again; the others still come from the cache
    prac_all = landing_copy / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv"
    revised = tmp_path / prac_all.name
    lines = prac_all.read_text(encoding="utf-8").splitlines(keepends=True)
    revised.write_text("".join(lines[:-1]), encoding="utf-8")  # the publisher dropped a row
    landing.land_file(revised, landing_copy, "gp_registrations", "2026-03", origin="test")
    reads.clear()
    third = normalise_inputs(selected(), tmp_path / "run3", cache, False)
    assert reads == ["gp_registrations/2026-03/gp-reg-pat-prac-all.csv"]
    rows = {(i.product, i.vintage): i.tables for i in third}
    before = {(i.product, i.vintage): i.tables for i in first}
    assert (
        rows[("prac_all", "2026-03")]["list_sizes"]
        == before[("prac_all", "2026-03")]["list_sizes"] - 1
    )

    reads.clear()
    normalise_inputs(selected(), tmp_path / "run4", cache, True)  # --force
    assert len(reads) == len(selected())
