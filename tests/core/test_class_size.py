"""No class in the package has more than ``MAX_METHODS`` methods: a class that does more
is several nouns, and is cut into rooms (docs/ARCHITECTURE.md). A class that must stay
larger goes on ``ALLOWED`` with the reason; it leaves the list once it fits, so the list
only shrinks (it is empty since the stores and the worker were cut by room)."""

from __future__ import annotations

import ast
from pathlib import Path

import incidentflow

PACKAGE = Path(incidentflow.__file__).parent
MAX_METHODS = 22
ALLOWED: dict[str, str] = {}  # none left: every class fits


def method_counts(root: Path) -> dict[str, int]:
    """``module path:Class`` -> how many methods its body defines (nested classes count
    on their own)."""
    counts = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                methods = [item for item in node.body
                           if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
                counts[f"{path.relative_to(root).as_posix()}:{node.name}"] = len(methods)
    return counts


def too_large(root: Path, allowed: dict[str, str]) -> list[str]:
    return [f"{name}: {count} methods" for name, count in method_counts(root).items()
            if count > MAX_METHODS and name not in allowed]


def test_no_class_has_more_than_the_limit_of_methods() -> None:
    assert too_large(PACKAGE, ALLOWED) == []


def test_every_allowed_class_still_needs_its_place_on_the_list() -> None:
    counts = method_counts(PACKAGE)
    fitting = [name for name in ALLOWED if counts.get(name, 0) <= MAX_METHODS]
    assert fitting == [], "these classes fit now (or are gone): take them off ALLOWED"


def test_the_rule_counts_methods_of_every_class(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    body = "".join(f"    def m{i}(self): ...\n" for i in range(MAX_METHODS))
    (tmp_path / "inner" / "rooms.py").write_text(
        f"class Fits:\n{body}\n"
        f"class Big:\n{body}    async def one_more(self): ...\n")
    assert too_large(tmp_path, {}) == ["inner/rooms.py:Big: 23 methods"]
    assert too_large(tmp_path, {"inner/rooms.py:Big": "being cut"}) == []
