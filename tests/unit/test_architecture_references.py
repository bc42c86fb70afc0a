"""The design travels with the code: every reference to docs/ARCHITECTURE.md names a section it
has, and nothing cites a design document a user who clones the project would not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs/ARCHITECTURE.md"
SEARCHED = (
    "flows",
    "dbt_project/models",
    "dbt_project/macros",
    "expectations",
    "report_templates",
    "tests",
    "benchmarks",
)
REFERENCE = re.compile(r'ARCHITECTURE\.md\s+"([^"]+)"')

pytestmark = pytest.mark.unit


def _files() -> list[Path]:
    found = [ROOT / "dbt_project/profiles.yml", ROOT / "Makefile"]
    for folder in SEARCHED:
        found += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.suffix in {".py", ".sql", ".yml", ".html", ".md"} and "target" not in p.parts
        ]
    return [p for p in found if p.is_file() and p != Path(__file__)]


def test_every_reference_names_a_section_the_document_has():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    # a section is a heading or a bold lead-in ("**Publishing.**") or a bullet's lead-in phrase
    names = set(re.findall(r"^#+ (.+)$", text, re.M)) | set(
        re.findall(r"\*\*([^*.]+)\.?\*\*", text)
    )
    cited = {
        (path.relative_to(ROOT).as_posix(), " ".join(name.split()))
        for path in _files()
        for name in REFERENCE.findall(" ".join(path.read_text(encoding="utf-8").split()))
    }
    assert len(cited) >= 15
    missing = sorted((where, name) for where, name in cited if name not in names)
    assert missing == [], missing


def test_no_file_cites_a_design_document_outside_the_repository():
    stale = [
        path.relative_to(ROOT).as_posix()
        for path in _files()
        if re.search(r"\b(DESIGN|PUBLICATION|STACK-NOTES|STYLE)\.md\b", path.read_text("utf-8"))
    ]
    assert stale == []
