from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows import publish

pytestmark = pytest.mark.unit


def make_release(out: Path, name: str) -> Path:
    release = out / "releases" / name
    release.mkdir(parents=True)
    (release / "index.html").write_text(name)
    return release


def test_publish_switches_the_site_link_atomically(tmp_path: Path):
    first = make_release(tmp_path, "2026-05_a")
    second = make_release(tmp_path, "2026-06_b")
    site = publish.publish(tmp_path, first)
    assert site.is_symlink() and (site / "index.html").read_text() == "2026-05_a"
    publish.publish(tmp_path, second)
    assert (site / "index.html").read_text() == "2026-06_b"
    assert not os.path.isabs(os.readlink(site))  # the output folder can be moved or served as is
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_publish_refuses_a_real_site_folder(tmp_path: Path):
    (tmp_path / "site").mkdir()
    with pytest.raises(publish.PublishError, match="real folder"):
        publish.publish(tmp_path, make_release(tmp_path, "r1"))


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path):
    with (
        publish.run_lock(tmp_path),
        pytest.raises(publish.RunLockedError, match="another run is publishing"),
        publish.run_lock(tmp_path),
    ):
        pass
    with publish.run_lock(tmp_path):  # released when the first run ends
        pass


def test_prune_keeps_newest_releases_and_the_published_one(tmp_path: Path):
    releases = [make_release(tmp_path, f"2026-0{i}_x") for i in range(1, 6)]
    publish.publish(tmp_path, releases[0])  # an old release is the published one
    (tmp_path / "work" / releases[0].name).mkdir(parents=True)
    (tmp_path / "work" / "stale").mkdir()
    publish.prune(tmp_path, keep=2)
    left = sorted(p.name for p in (tmp_path / "releases").iterdir())
    assert left == ["2026-01_x", "2026-04_x", "2026-05_x"]
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["2026-01_x"]
