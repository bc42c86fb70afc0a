"""The national run of the bundled sample, built once per test session and shared by the slow
tests that read it (the end-to-end checks and the Fingertips oracle)."""

from __future__ import annotations

import pytest

from tests.national import run_national


@pytest.fixture(scope="session")
def national_first(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("national_prefect_home")
    return run_national(tmp_path_factory.mktemp("national_first"), home)


@pytest.fixture(scope="session")
def national_second(tmp_path_factory: pytest.TempPathFactory, national_first: dict) -> dict:
    """The same run again into a new folder (outputs must be byte-identical)."""
    home = tmp_path_factory.mktemp("national_prefect_home_2")
    return run_national(tmp_path_factory.mktemp("national_second"), home)
