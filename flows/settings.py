"""Configuration in one place: environment variables prefixed PCN_BENCHMARK_ (see .env.example)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
TEMPLATES_DIR = PROJECT_ROOT / "report_templates"

# Every DuckDB connection the project opens: no extension may be fetched (there is no network)
DUCKDB_OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PCN_BENCHMARK_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data/sample")
    """Landing zone read by `run` (the bundled real sample by default)."""
    raw_dir: Path = Path("data/raw")
    """Landing zone written by `fetch` and read by `run --fetch`."""
    out_dir: Path = Path("build")
    """Publication root: releases/, site (a symbolic link) and work/."""
    duckdb_path: str | None = None
    """DuckDB database for dbt; default <out>/work/pcn_benchmark.duckdb."""
    duckdb_memory_limit: str = "1GB"
    """DuckDB's memory limit in dbt (it spills to disk beyond it): keeps a 24-month national
    build within the run's memory budget. DuckDB's own default is 80% of the machine's RAM."""
    keep_releases: int = 5
    """Release folders kept under <out>/releases (the published one is always kept)."""
    render_batch_size: int = 200
    """PCN pages rendered per task."""
    dask_address: str | None = None
    """Scheduler of a Dask cluster to render on (e.g. `tcp://10.0.0.5:8786`), through
    prefect-dask's DaskTaskRunner; unset: worker processes on this machine."""
    notify_url: str | None = None
    """Apprise URL told when a run fails, the quality gate refuses a month or a source is late
    (e.g. `mailtos://...`, `slack://...`, `json://host:port/path`); unset: no notifications."""
    schedule_cron: str = "0 6 20 * *"
    """When `serve` runs the flow: 06:00 on the 20th, after the publishers' usual release days
    (registrations and workforce in the first half of the month)."""
    schedule_timezone: str = "Europe/London"
    recheck_cron: str | None = "0 7 * * *"
    """When `serve` rechecks the published period (daily at 07:00): a publisher's revision of a
    file it used is republished; unchanged, the run ends in seconds. Empty: no recheck."""
    expected_by_day: int = 20
    """Day of the month by which each watched source should have published (check-sources)."""
    source_lag_months: dict[str, int] = {
        "gp_registrations": 0,
        "pcn_workforce": 1,
        "gp_workforce": 2,
    }
    """Watched sources and how many months their reference month trails the month they publish
    in (JSON in the environment, e.g. '{"gp_registrations": 0}')."""
    site_title: str = "PCN primary mental health benchmark"
    contact_email: str = "pcn-mh-benchmark@example.org"


def get_settings() -> Settings:
    return Settings()
