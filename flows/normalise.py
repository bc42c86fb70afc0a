"""Normalise landed raw files to Parquet for dbt (working files under <out>/work/parquet/)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from flows.landing import LandedFile, read_manifest


class MissingSourceError(RuntimeError):
    """A source product the benchmark needs has no landed vintage on or before the period."""


# What a publication needs; each is (source, product).
REQUIRED_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("ods_epcn", "epcn"),
    ("gp_registrations", "prac_all"),
    ("gp_registrations", "prac_map"),
    ("pcn_workforce", "individual"),
    ("qof", "prevalence"),
)


@dataclass(frozen=True)
class NormalisedInput:
    source: str
    product: str
    vintage: str
    path: str
    bytes: int
    sha256: str
    origin: str
    schema_version: str
    period: str
    source_status: str
    tables: dict[str, int]
    """Normalised table name -> rows written."""


def source_status(landed: LandedFile) -> str:
    """real, rebuilt or synthetic, as the manifest says (a missing status means real)."""
    manifest = read_manifest(landed.path.parent)
    entry = next((f for f in manifest.get("files", []) if f["name"] == landed.path.name), {})
    return entry.get("status", "real")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_required(selected: dict[tuple[str, str], LandedFile], period: str) -> None:
    missing = [f"{s} ({p})" for s, p in REQUIRED_PRODUCTS if (s, p) not in selected]
    if missing:
        raise MissingSourceError(
            f"no landed vintage on or before {period} for: {', '.join(missing)}"
        )


def normalise_file(landed: LandedFile, parquet_dir: Path) -> NormalisedInput:
    """Read one landed file with its source's reader and write its tables as Parquet."""
    result = landed.spec.read(landed.path, landed.vintage)
    status = source_status(landed)
    rows: dict[str, int] = {}
    for name, table in result.tables.items():
        n = table.num_rows
        table = table.append_column("vintage", pa.array([landed.vintage] * n, pa.string()))
        table = table.append_column("source_status", pa.array([status] * n, pa.string()))
        write_parquet(table, parquet_dir / f"{landed.source}__{name}.parquet")
        rows[name] = n
    return NormalisedInput(
        source=landed.source,
        product=landed.product,
        vintage=landed.vintage,
        path=str(landed.path),
        bytes=landed.bytes,
        sha256=landed.sha256,
        origin=landed.origin,
        schema_version=result.schema_version,
        period=result.period,
        source_status=status,
        tables=rows,
    )
