"""Normalise landed raw files to Parquet for dbt (working files under <out>/work/parquet/)."""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from flows.landing import LandedFile, read_manifest
from flows.sources import PRODUCTS, ReaderError, ReadResult


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
    except OSError as exc:  # a full disk: say which file could not be written
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_required(selected: dict[tuple[str, str], LandedFile], period: str) -> None:
    missing = [f"{s} ({p})" for s, p in REQUIRED_PRODUCTS if (s, p) not in selected]
    if missing:
        raise MissingSourceError(
            f"no landed vintage on or before {period} for: {', '.join(missing)}"
        )


def with_landing_columns(table: pa.Table, vintage: str | None, status: str | None) -> pa.Table:
    """Every normalised row says which landed vintage it came from and its source status."""
    n = table.num_rows
    table = table.append_column("vintage", pa.array([vintage] * n, pa.string()))
    return table.append_column("source_status", pa.array([status] * n, pa.string()))


def write_empty_tables(selected: list[LandedFile], parquet_dir: Path) -> list[str]:
    """Empty tables for every product with no vintage for the period, so dbt reads them as
    "not available" instead of failing on a missing file. Returns the products written."""
    chosen = {(f.source, f.product) for f in selected}
    written = []
    for product in PRODUCTS:
        if (product.source, product.product) in chosen:
            continue
        for name, schema in product.tables.items():
            write_parquet(
                with_landing_columns(schema.empty_table(), None, None),
                parquet_dir / f"{product.parquet_name(name)}.parquet",
            )
        written.append(f"{product.source} ({product.product})")
    return written


@dataclass(frozen=True)
class ReadFile:
    """One landed file read into its own Parquet tables: the work a cache can keep, since it
    depends only on the file's bytes and the reader's code."""

    schema_version: str
    period: str
    tables: dict[str, str]
    """Reader table name -> path of this file's Parquet for it."""
    rows: dict[str, int]

    def exists(self) -> bool:
        return all(Path(p).is_file() for p in self.tables.values())


def read_to_parquet(landed: LandedFile, folder: Path) -> ReadFile:
    """Read one landed file with its reader and write each table to `folder` (atomically)."""
    result = read_landed(landed)
    paths: dict[str, str] = {}
    for name, table in result.tables.items():
        path = folder / f"{landed.spec.parquet_name(name)}.parquet"
        write_parquet(table, path)
        paths[name] = str(path)
    return ReadFile(
        schema_version=result.schema_version,
        period=result.period,
        tables=paths,
        rows={name: table.num_rows for name, table in result.tables.items()},
    )


def stack_files(
    read: list[tuple[LandedFile, ReadFile]], parquet_dir: Path
) -> list[NormalisedInput]:
    """One Parquet table per product and table name for dbt; a series product's vintages are
    stacked in one table (each row keeps its vintage and source status)."""
    inputs: list[NormalisedInput] = []
    stacked: dict[str, list[pa.Table]] = {}
    for landed, done in sorted(read, key=lambda r: (r[0].source, r[0].product, r[0].vintage)):
        status = source_status(landed)
        for name, path in done.tables.items():
            stacked.setdefault(landed.spec.parquet_name(name), []).append(
                with_landing_columns(pq.read_table(path), landed.vintage, status)
            )
        inputs.append(
            NormalisedInput(
                source=landed.source,
                product=landed.product,
                vintage=landed.vintage,
                path=str(landed.path),
                bytes=landed.bytes,
                sha256=landed.sha256,
                origin=landed.origin,
                schema_version=done.schema_version,
                period=done.period,
                source_status=status,
                tables=dict(done.rows),
            )
        )
    for name, tables in stacked.items():
        write_parquet(pa.concat_tables(tables), parquet_dir / f"{name}.parquet")
    return inputs


def normalise_files(files: list[LandedFile], parquet_dir: Path) -> list[NormalisedInput]:
    """Read landed files (no cache) and write the stacked Parquet tables dbt reads."""
    read = [
        (landed, read_to_parquet(landed, parquet_dir / "_files" / f"{i:03d}"))
        for i, landed in enumerate(files)
    ]
    return stack_files(read, parquet_dir)


def read_landed(landed: LandedFile) -> ReadResult:
    """The reader's tables; any failure becomes a ReaderError that names the landed file."""
    try:
        return landed.spec.read(landed.path, landed.vintage)
    except ReaderError:
        raise
    except (ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        # a reader met something its checks did not foresee: still one line naming the file
        raise ReaderError(
            landed.path, f"could not be read ({exc.__class__.__name__}: {exc})"
        ) from exc
