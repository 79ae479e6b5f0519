"""errors.py draws the one exception tree: every IncidentflowError in the package is in
its drawing, so a new exception is placed in the tree, not invented on the side."""

from __future__ import annotations

import importlib
import pkgutil

import incidentflow
from incidentflow import errors


def every_module() -> None:
    for info in pkgutil.walk_packages(incidentflow.__path__, "incidentflow."):
        if ".migrations." in info.name or info.name.endswith("__main__"):  # not libraries
            continue
        importlib.import_module(info.name)


def subclasses(base: type) -> set[type]:
    found = set()
    for sub in base.__subclasses__():
        found |= {sub} | subclasses(sub)
    return found


def test_every_project_exception_is_drawn_in_the_tree() -> None:
    every_module()
    drawing = errors.__doc__ or ""
    ours = {cls for cls in subclasses(errors.IncidentflowError)
            if cls.__module__.startswith("incidentflow.")}
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in ours
                     if f" {c.__name__}" not in drawing)
    assert not missing, f"add these to the tree in errors.py: {missing}"
    assert len(ours) >= 15  # the walk did find the package's exceptions
