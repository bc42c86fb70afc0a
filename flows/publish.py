"""Release folders and the atomic switch of `<out>/site` (docs/ARCHITECTURE.md "Publishing").

Each run builds into `<out>/releases/<release-id>/`; only after every critical check has passed
does `<out>/site`, a symbolic link, switch to it by one atomic rename. A failed run leaves
`<out>/site` as it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flows.settings import TEMPLATES_DIR

CACHE = "cache"


class PublishError(RuntimeError):
    """The output folder is not in a state we can publish into."""


def new_release_dir(out_dir: Path, release_id: str) -> Path:
    release = out_dir / "releases" / release_id
    if release.exists():
        raise PublishError(f"{release}: release folder already exists")
    release.mkdir(parents=True)
    shutil.copytree(TEMPLATES_DIR / "static", release / "static")
    return release


def publish(out_dir: Path, release_dir: Path) -> Path:
    """Point `<out>/site` at the release in one atomic rename; returns the site path."""
    site = out_dir / "site"
    if site.exists() and not site.is_symlink():
        raise PublishError(f"{site} is a real folder, not a link to a release; move it away first")
    target = os.path.relpath(release_dir.resolve(), out_dir.resolve())
    temporary = out_dir / f".site-{release_dir.name}.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(target, temporary)
    os.replace(temporary, site)  # rename(2) over the old link: readers see old or new, never none
    return site


def current_release(out_dir: Path) -> Path | None:
    site = out_dir / "site"
    return site.resolve() if site.is_symlink() else None


def read_manifest(release: Path) -> dict | None:
    """A release's manifest.json; None when it has none (a run killed before its end)."""
    try:
        return json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def published_manifest(out_dir: Path) -> dict | None:
    """The manifest of the release `<out>/site` points at; None when nothing is published."""
    current = current_release(out_dir)
    return read_manifest(current) if current else None


def find_release(out_dir: Path, key: str) -> Path | None:
    """A kept, finished release built from exactly this publication key (the published one
    first): a run with this key would rebuild it byte for byte."""
    current = current_release(out_dir)
    releases = sorted((out_dir / "releases").glob("*"), key=lambda p: p.name, reverse=True)
    for release in ([current] if current else []) + releases:
        manifest = read_manifest(release)
        if manifest and manifest.get("publication_key") == key:
            return release
    return None


def changed_inputs(before: list[dict], now: list[dict]) -> list[dict]:
    """Input files that differ between two releases of a period: revised (same source, product,
    vintage and name, new sha256), added or dropped."""

    def by_file(inputs: list[dict]) -> dict[tuple, str]:
        return {
            (i["source"], i["product"], i["vintage"], Path(i["path"]).name): i["sha256"]
            for i in inputs
        }

    old, new = by_file(before), by_file(now)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) == new.get(key):
            continue
        change = "revised" if key in old and key in new else "added" if key in new else "dropped"
        source, product, vintage, name = key
        changes.append(
            {
                "source": source,
                "product": product,
                "vintage": vintage,
                "file": name,
                "change": change,
                "sha256_before": old.get(key),
                "sha256_now": new.get(key),
            }
        )
    return changes


class RunLockedError(RuntimeError):
    """Another run is publishing into the same output folder."""


@contextmanager
def run_lock(out_dir: Path) -> Iterator[None]:
    """Refuse a second run on the same output while one is running (an OS lock: freed on exit,
    even if the first run is killed)."""
    path = out_dir / ".run.lock"
    try:  # the first write of a run: an output folder we cannot write to fails here, at once
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise PublishError(f"{out_dir}: cannot write to the output folder ({reason})") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunLockedError(
            f"another run is publishing into {out_dir} ({holder}); wait for it to finish"
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def cache_dir(out_dir: Path) -> Path:
    """Work kept between runs (cached reads of landed files, Prefect's cache records)."""
    return out_dir / "work" / CACHE


def prune(out_dir: Path, keep: int) -> list[Path]:
    """Keep the newest `keep` releases (and always the published one); drop older releases and
    every working folder but the published release's and the cache. Returns what was removed."""
    current = current_release(out_dir)
    removed: list[Path] = []
    releases = sorted((out_dir / "releases").glob("*"), key=lambda p: p.name, reverse=True)
    for release in releases[keep:]:
        if release.resolve() != current:
            shutil.rmtree(release)
            removed.append(release)
    for work in (out_dir / "work").glob("*"):
        if work.name != CACHE and (current is None or work.name != current.name):
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
    return removed
