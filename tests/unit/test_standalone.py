"""The repository stands alone: no tracked file points at a document outside it (the design brief it grew from)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Built from parts so this file does not match itself.
OUTSIDE = re.compile("|".join([re.escape("../" + "shared"), re.escape("DESIGN" + ".md"), "DESIGN" + r"\s*§"]))


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_file_refers_to_a_document_outside_the_repository():
    files = tracked_files()
    assert len(files) > 100  # the listing worked
    offenders = []
    for path in files:
        if path.name == "package-lock.json" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "replace with the repository's own docs/:\n" + "\n".join(offenders)


def test_docs_hold_the_contract():
    for name in ("api.md", "settings.md", "tables.md", "alerts.md", "retention.md", "client.md"):
        assert (ROOT / "docs" / name).is_file(), name
    api = (ROOT / "docs" / "api.md").read_text()
    for route in ("GET /api/moves`", "POST /api/moves/validate", "GET /api/retention", "GET /api/names/"):
        assert route in api, route
