"""The national run of the bundled sample that the slow tests share (tests/integration/conftest.py):
`pcn-benchmark run` with everything national computed in full and PCN pages and PDFs for a fixed
sample of PCNs (rendering all 1,305 of each takes about 10 minutes on 2 cores)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl

from tests.conftest import ROOT, SAMPLE

CLI = str(Path(sys.executable).with_name("pcn-benchmark"))

# named in tests: Stockton; Coast and Country, whose practices lie in two ICBs (a blend of
# their Talking Therapies figures); Carlisle Rural, absent from the June 2026 workforce census
STOCKTON, BLEND, NOT_IN_CENSUS = "U89141", "U41591", "U00639"


def open_pcns_in_epcn(reference: date) -> set[str]:
    book = openpyxl.load_workbook(SAMPLE / "ods_epcn/2025-01/ePCN.xlsx", read_only=True)
    codes = set()
    for row in list(book["PCNDetails"].iter_rows(values_only=True))[1:]:
        code, opened, closed = row[0], row[4], row[5]
        opened_on = date(int(opened[:4]), int(opened[4:6]), int(opened[6:8]))
        closed_on = date(int(closed[:4]), int(closed[4:6]), int(closed[6:8])) if closed else None
        if opened_on <= reference and (closed_on is None or closed_on > reference):
            codes.add(code)
    return codes


def sample_pcns() -> list[str]:
    """Every 33rd PCN open at the reference date, and the PCNs named in tests."""
    named = {STOCKTON, BLEND, NOT_IN_CENSUS}
    return sorted({*sorted(open_pcns_in_epcn(date(2026, 7, 31)))[::33], *named})


def run_national(out: Path, prefect_home: Path) -> dict:
    """One run into `out`; its site, its database and what it printed."""
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    pages = [arg for code in sample_pcns() for arg in ("--pcn", code)]
    run = subprocess.run(
        [CLI, "run", "--out", str(out), *pages],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    (database,) = (out / "work").glob("*/pcn_benchmark.duckdb")
    return {"out": out, "site": out / "site", "database": database, "stdout": run.stdout}
