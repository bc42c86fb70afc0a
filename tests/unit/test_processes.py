"""flows.processes: a step run in a process of its own gives back its result or its error."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.processes import in_own_process


def test_the_result_comes_back_from_another_process():
    assert in_own_process(os.getpid) != os.getpid()
    assert in_own_process(sorted, [3, 1, 2]) == [1, 2, 3]


def test_an_error_in_the_other_process_is_raised_here_with_its_message(tmp_path: Path):
    # a Parquet file that is not there: the error names it
    with pytest.raises(FileNotFoundError, match=r"gone\.parquet"):
        in_own_process(_read_missing, tmp_path / "gone.parquet")


def _read_missing(path: Path) -> None:
    pq.read_table(path)


def test_a_reader_error_crosses_the_process_with_the_file_it_names():
    from flows.sources.base import ReaderError

    with pytest.raises(
        ReaderError, match=r"^/landing/qof\.csv: column PRACTICE_CODE: expected"
    ) as raised:
        in_own_process(_refuse, "/landing/qof.csv")
    assert raised.value.path == "/landing/qof.csv"


def _refuse(path: str) -> None:
    from flows.sources.base import ReaderError

    raise ReaderError(path, "column PRACTICE_CODE: expected a practice code")
