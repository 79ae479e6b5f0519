"""Module names say what they hold and never shadow the standard library: a module
called ``logging`` or ``queue`` inside the package is one relative import or one
``sys.path`` entry away from replacing the real one, and hides what it holds."""

from __future__ import annotations

import sys
from pathlib import Path

import incidentflow

PACKAGE = Path(incidentflow.__file__).parent


def stdlib_shadows(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                  if p.stem in sys.stdlib_module_names)


def test_no_module_shadows_the_standard_library() -> None:
    assert stdlib_shadows(PACKAGE) == []


def test_the_rule_sees_a_shadowing_module(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "logging.py").write_text("")
    (tmp_path / "log_setup.py").write_text("")
    assert stdlib_shadows(tmp_path) == ["inner/logging.py"]
