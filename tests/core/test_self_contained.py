"""The repository stands on its own: no file points at the folder it was seeded from or
at a design document outside it (the rules live in docs/design-rules.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Built from pieces, so this file does not match its own patterns.
OUTSIDE = re.compile("|".join([
    re.escape("../" + "shared"), re.escape("/work/" + "shared"),
    re.escape("DESIGN" + ".md"), "Less" + r"on \d",
]))


def tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_no_file_refers_to_anything_outside_the_repository() -> None:
    found = []
    for path in tracked_text_files():
        data = path.read_bytes()
        if b"\0" in data:  # binary (screenshots)
            continue
        for number, line in enumerate(data.decode(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not found, "\n".join(found)


def test_the_pattern_does_catch_a_reference() -> None:
    assert OUTSIDE.search("see ../" + "shared/" + "DESIGN" + ".md, Less" + "on 4")
