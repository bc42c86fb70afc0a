"""The landing zone: `<data-dir>/<source>/<vintage>/` holding files as served (and what was
extracted from them) with a `_manifest.json`. Landed files are never modified; a publisher's
replacement lands under `revisions/<landed-date>/` and the newest revision is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.sources import PRODUCTS, SOURCES, Product

MANIFEST = "_manifest.json"
VINTAGE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class LandingError(RuntimeError):
    """The landing zone is not as the manifest says (a modified file, a missing manifest ...)."""


@dataclass(frozen=True)
class LandedFile:
    source: str
    product: str
    vintage: str
    path: Path
    bytes: int
    sha256: str
    origin: str

    @property
    def spec(self) -> Product:
        return next(p for p in PRODUCTS if (p.source, p.product) == (self.source, self.product))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _revision_folders(folder: Path) -> list[Path]:
    """The vintage folder, then its revision folders from oldest to newest."""
    revisions = folder / "revisions"
    landed = sorted(p for p in revisions.iterdir() if p.is_dir()) if revisions.is_dir() else []
    return [folder, *landed]


def current_files(folder: Path) -> dict[str, Path]:
    """Each file name of a vintage with its copy in use: the newest revision of that name."""
    current: dict[str, Path] = {}
    for place in _revision_folders(folder):
        for path in sorted(place.iterdir()):
            if path.is_file() and not path.name.startswith(("_", ".")):
                current[path.name] = path
    return current


def check_real_files(folder: Path) -> None:
    """A vintage holds real files only, and every file its manifests list.

    A symbolic link could point anywhere and change under a landed name; a listed file that has
    gone would silently let an older vintage be published in its place."""
    for place in _revision_folders(folder):
        if place.is_symlink():
            raise LandingError(f"{place}: a symbolic link; landed folders must be real folders")
        for path in place.iterdir():
            if path.is_symlink():
                raise LandingError(
                    f"{path}: a symbolic link to {os.readlink(path)}; landed files must be real "
                    "files (land a copy with `pcn-benchmark fetch`)"
                )
        if (place / MANIFEST).is_file():
            for entry in read_manifest(place).get("files", []):
                if not (place / entry["name"]).is_file():
                    raise LandingError(
                        f"{place / entry['name']}: listed in {place / MANIFEST} but missing"
                    )


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise LandingError(f"{folder}: no {MANIFEST}; land files with `pcn-benchmark fetch`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LandingError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc


def scan(data_dir: Path) -> list[LandedFile]:
    """Every landed file a reader knows, for every source and vintage, checked against manifests."""
    if not data_dir.is_dir():
        raise LandingError(f"{data_dir}: data directory does not exist")
    found: list[LandedFile] = []
    for source in SOURCES:
        source_dir = data_dir / source
        if not source_dir.is_dir():
            continue
        for vintage_dir in sorted(source_dir.iterdir()):
            if not (vintage_dir.is_dir() and VINTAGE.match(vintage_dir.name)):
                continue
            check_real_files(vintage_dir)
            manifests: dict[Path, dict] = {}
            best: dict[str, tuple[int, LandedFile]] = {}
            for name, path in current_files(vintage_dir).items():
                for product in PRODUCTS:
                    rank = product.matches(name) if product.source == source else None
                    if rank is None:
                        continue
                    if path.parent not in manifests:
                        manifests[path.parent] = {
                            f["name"]: f for f in read_manifest(path.parent).get("files", [])
                        }
                    entry = manifests[path.parent].get(name)
                    if entry is None:
                        raise LandingError(f"{path}: not listed in {path.parent / MANIFEST}")
                    landed = LandedFile(
                        source=source,
                        product=product.product,
                        vintage=vintage_dir.name,
                        path=path,
                        bytes=int(entry["bytes"]),
                        sha256=entry["sha256"],
                        origin=entry.get("url") or entry.get("origin", ""),
                    )
                    if product.product not in best or rank < best[product.product][0]:
                        best[product.product] = (rank, landed)
            found.extend(landed for _, landed in best.values())
    return found


def verify(landed: LandedFile) -> None:
    """A landed file is never modified: its bytes must still match its manifest."""
    size = landed.path.stat().st_size
    if size != landed.bytes or sha256_of(landed.path) != landed.sha256:
        raise LandingError(
            f"{landed.path}: does not match its manifest (bytes {size}, expected {landed.bytes}); "
            "a landed file must not be edited - land a revision instead"
        )


def latest_vintage(landed: list[LandedFile]) -> str:
    if not landed:
        raise LandingError("nothing is landed: no vintage to publish")
    return max(f.vintage for f in landed)


def select_for_period(landed: list[LandedFile], period: str) -> dict[tuple[str, str], LandedFile]:
    """Each source product's latest landed vintage on or before the period."""
    chosen: dict[tuple[str, str], LandedFile] = {}
    for f in sorted(landed, key=lambda f: f.vintage):
        if f.vintage <= period:
            chosen[(f.source, f.product)] = f
    return chosen


def select_with_series(landed: list[LandedFile], period: str) -> list[LandedFile]:
    """What a period reads: each product's latest vintage on or before it, and for series
    products (trends) every vintage on or before it."""
    latest = select_for_period(landed, period)
    chosen = set(latest.values())
    for f in landed:
        if f.vintage <= period and f.spec.series:
            chosen.add(f)
    return sorted(chosen, key=lambda f: (f.source, f.product, f.vintage))


def land_file(
    src: Path,
    data_dir: Path,
    source: str,
    vintage: str,
    *,
    origin: str,
    name: str | None = None,
    landed_at: str | None = None,
    extra: dict | None = None,
) -> Path:
    """Copy a file into the landing zone atomically and record it in the vintage's manifest.

    An identical file already landed is left alone; a different file under the same name is a
    revision and lands in `revisions/<landed-date>/`.
    """
    if source not in SOURCES:
        raise LandingError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if not VINTAGE.match(vintage):
        raise LandingError(f"vintage {vintage!r} is not YYYY-MM")
    name = name or src.name
    landed_at = landed_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    folder = data_dir / source / vintage
    digest = sha256_of(src)
    target = folder / name
    in_use = current_files(folder).get(name) if folder.is_dir() else None
    if in_use is not None:
        if sha256_of(in_use) == digest:
            return in_use  # identical to the copy in use: nothing to land
        # a revision (or a return to an earlier version): never overwrite a landed file
        base = folder / "revisions" / landed_at[:10]
        folder, n = base, 1
        while (folder / name).exists():
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
        target = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".landing-")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _record(folder, source, vintage, name, target, origin, landed_at, extra or {})
    return target


def _record(
    folder: Path,
    source: str,
    vintage: str,
    name: str,
    target: Path,
    origin: str,
    landed_at: str,
    extra: dict,
) -> None:
    path = folder / MANIFEST
    manifest = (
        json.loads(path.read_text(encoding="utf-8"))
        if path.exists()
        else {"source": source, "vintage": vintage, "files": []}
    )
    files = [f for f in manifest["files"] if f["name"] != name]
    key = "url" if origin.startswith(("http://", "https://")) else "origin"
    files.append(
        {
            "name": name,
            key: origin,
            "bytes": target.stat().st_size,
            "sha256": sha256_of(target),
            "landed_at": landed_at,
            **extra,
        }
    )
    manifest["files"] = sorted(files, key=lambda f: f["name"])
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)
