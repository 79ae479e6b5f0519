"""The repository stands on its own: no tracked file points at a design folder or
document kept outside it (its rules live in docs/design-rules.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]

# Built from pieces so this file does not match its own patterns.
FORBIDDEN = [
    re.compile(re.escape(".." + "/shared")),
    re.compile(re.escape("/work" + "/shared")),
    re.compile(re.escape("DESIGN" + ".md")),
    re.compile("Les" + r"son \d"),
]


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    files = []
    for name in filter(None, listed):
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the work tree but not yet from the index
        head = path.read_bytes()[:8192]
        if b"\0" not in head:  # binary files (screenshots, ...) are skipped
            files.append(path)
    return files


def offending_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1)
            if any(pattern.search(line) for pattern in FORBIDDEN)]


def test_the_patterns_catch_what_they_are_for() -> None:
    samples = ["see .." + "/shared/x", "/work" + "/shared/ref", "DESIGN" + ".md",
               "(Les" + "son 4)"]
    assert all(any(p.search(s) for p in FORBIDDEN) for s in samples)
    assert not any(p.search("docs/design-rules.md, \"Fail closed\"") for p in FORBIDDEN)


def test_no_tracked_file_refers_outside_the_repository() -> None:
    files = tracked_text_files()
    assert len(files) > 100  # really walked the repository
    problems = [line for path in files for line in offending_lines(path)]
    assert problems == [], "\n".join(problems)
