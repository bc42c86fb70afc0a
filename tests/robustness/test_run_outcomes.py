"""Bad inputs, bad values and file-system faults through `pcn-benchmark run`, next to a real
publication: each run fails with exit 1 and one line naming the file (and row or column), and the
landing zone and the last publication are exactly as they were."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from flows import render
from tests.conftest import FIXTURE_PERIOD
from tests.robustness.conftest import FILES, CsvText, NothingLost, one_line_error, reland, run_cli

pytestmark = pytest.mark.integration


def relative(name: str) -> str:
    path = FILES[name][0]
    return str(path.relative_to(path.parents[2]))


def run_fails(landing: Path, out: Path, *words: str) -> str:
    """Run next to the publication in `out`; the failure line must hold every word. `--force`:
    some cases break the run, not the inputs, and the publication is of the same inputs."""
    guard = NothingLost(landing, out)
    line = one_line_error(
        run_cli(
            "run",
            *("--period", FIXTURE_PERIOD, "--data-dir", str(landing), "--out", str(out)),
            "--force",
        )
    )
    for word in words:
        assert word in line, line
    guard.check()
    return line


def edit_landed(landing: Path, name: str, edit) -> None:
    text = CsvText((landing / relative(name)).read_bytes())
    edit(text)
    reland(landing, relative(name), text.to_bytes())


def set_cell(name: str, column: str, row: int, value: str):
    def edit(text: CsvText) -> None:
        text.rows[row - 1][text.column(column)] = value

    return edit


# --- inputs ----------------------------------------------------------------------------------


def test_a_truncated_download_landed_as_served(prefect_harness, landing_copy: Path, published):
    path = landing_copy / relative("prac_map")
    raw = path.read_bytes()
    reland(landing_copy, relative("prac_map"), raw[: len(raw) - 60])
    run_fails(landing_copy, published, "gp-reg-pat-prac-map.csv", "row 106 has")


def test_a_landed_file_cut_short_afterwards(prefect_harness, landing_copy: Path, published):
    path = landing_copy / relative("qof")
    path.write_bytes(path.read_bytes()[:-500])
    run_fails(landing_copy, published, "PREVALENCE_2425.csv", "does not match its manifest")


def test_an_epcn_xlsx_that_is_an_html_error_page(prefect_harness, landing_copy: Path, published):
    from tests.robustness.conftest import HTML_ERROR_PAGE

    reland(landing_copy, "ods_epcn/2025-01/ePCN.xlsx", HTML_ERROR_PAGE)
    run_fails(landing_copy, published, "ePCN.xlsx", "HTML page")


# --- values ----------------------------------------------------------------------------------


def test_a_negative_list_size(prefect_harness, landing_copy: Path, published):
    edit_landed(landing_copy, "prac_all", set_cell("prac_all", "NUMBER_OF_PATIENTS", 5, "-8713"))
    run_fails(
        landing_copy,
        published,
        "gp-reg-pat-prac-all.csv",
        "row 5, column NUMBER_OF_PATIENTS: '-8713' is not a count",
    )


def test_an_fte_no_record_can_have(prefect_harness, landing_copy: Path, published):
    edit_landed(landing_copy, "pcn_workforce", set_cell("pcn_workforce", "FTE", 9, "999"))
    run_fails(landing_copy, published, "June 2026 Individual Level.csv", "column FTE", "row 9: 999")


def test_a_practice_in_two_pcns_at_once(prefect_harness, landing_copy: Path, published):
    def map_twice(text: CsvText) -> None:
        again = list(text.rows[3])
        pcn = text.column("PCN_CODE")
        again[pcn] = text.rows[20][pcn]
        text.rows.append(again)

    edit_landed(landing_copy, "prac_map", map_twice)
    run_fails(landing_copy, published, "gp-reg-pat-prac-map.csv", "is mapped again")


def test_a_quality_gate_failure_names_its_expectation(prefect_harness, landing_copy, published):
    """A value every row could hold but the set cannot (no DEP group at all) stops the run at
    the quality gate; the duplicate-list-size case is in tests/integration/test_fixture_flow."""

    def drop_dep(text: CsvText) -> None:
        group = text.column("GROUP_CODE")
        text.rows[1:] = [r for r in text.rows[1:] if r[group] != "DEP"]

    edit_landed(landing_copy, "qof", drop_dep)
    run_fails(landing_copy, published, "quality gate", "group_code")


# --- the file system -------------------------------------------------------------------------


def test_a_symlinked_file_in_the_data_directory(prefect_harness, landing_copy, published, tmp_path):
    landed = landing_copy / relative("imd")
    outside = tmp_path / "elsewhere.csv"
    shutil.move(landed, outside)
    os.symlink(outside, landed)
    run_fails(landing_copy, published, "indicator-data.csv: a symbolic link")


def test_a_symlinked_vintage_folder(prefect_harness, landing_copy, published, tmp_path):
    folder = landing_copy / "qof/2025-03"
    shutil.move(folder, tmp_path / "qof-2025-03")
    os.symlink(tmp_path / "qof-2025-03", folder)
    run_fails(landing_copy, published, "qof/2025-03: a symbolic link")


def test_a_landed_file_that_has_gone(prefect_harness, landing_copy: Path, published):
    """Without the check the older 2021-01 list sizes would be published as current."""
    (landing_copy / relative("prac_all")).unlink()
    run_fails(landing_copy, published, "gp-reg-pat-prac-all.csv: listed in", "but missing")


def chattr(flag: str, path: Path) -> bool:
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


def test_an_output_folder_that_is_not_writable(prefect_harness, landing_copy, published):
    if os.geteuid() == 0:  # root ignores permissions: make the folder immutable instead
        if not chattr("+i", published):
            pytest.skip("chattr +i is not available here")
    else:
        published.chmod(0o555)
    try:
        run_fails(landing_copy, published, str(published), "cannot write to the output folder")
    finally:
        if os.geteuid() == 0:
            chattr("-i", published)
        else:
            published.chmod(0o755)


class FullDisk:
    """`os` as render.py sees it, on a disk that fills up after `pages` files were written."""

    def __init__(self, pages: int) -> None:
        self.pages = pages

    def __getattr__(self, name: str):
        return getattr(os, name)

    def fdopen(self, fd: int, *args, **kwargs):
        handle = os.fdopen(fd, *args, **kwargs)
        self.pages -= 1
        return handle if self.pages >= 0 else _FullFile(handle)


class _FullFile:
    def __init__(self, handle) -> None:
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_disk_that_is_full_when_inputs_are_normalised(
    prefect_harness, landing_copy: Path, published, monkeypatch: pytest.MonkeyPatch
):
    from flows import normalise

    def full(table, where, **kwargs) -> None:
        Path(where).write_bytes(b"PAR1")  # a few bytes made it before the disk filled
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(normalise.pq, "write_table", full)
    run_fails(landing_copy, published, "[Errno 28] No space left on device", ".parquet'")
    assert not list((published / "work").rglob(".*.parquet-*"))  # no temporary file left


@pytest.mark.slow
def test_a_disk_that_fills_up_while_pages_are_written(
    prefect_harness, landing_copy: Path, published, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(render, "os", FullDisk(pages=3))
    run_fails(landing_copy, published, "[Errno 28] No space left on device", ".html'")
    # the abandoned release folder holds no half-written temporary page
    releases = list((published / "releases").iterdir())
    assert len(releases) == 2
    for folder in releases:
        assert not [p for p in folder.rglob(".*.html-*")], folder
