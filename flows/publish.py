"""Release folders and the atomic switch of `<out>/site` (DESIGN.md "Publishing").

Each run builds into `<out>/releases/<release-id>/`; only after every critical check has passed
does `<out>/site`, a symbolic link, switch to it by one atomic rename. A failed run leaves
`<out>/site` as it was.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flows.settings import TEMPLATES_DIR


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
