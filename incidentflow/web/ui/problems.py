"""Validation problems, grouped by node and located in the YAML source for the editor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incidentflow.errors import IncidentflowError, Problem


@dataclass(frozen=True)
class LocatedProblem:
    node: str | None
    field: str | None
    message: str
    line: int | None  # 1-based line in the source where the node (or field) is written


def problems_of(exc: IncidentflowError) -> list[Problem]:
    """Every located problem an error carries; its message alone when it carries none."""
    problems: list[Problem] = list(getattr(exc, "problems", None) or [])
    if not problems:
        node = getattr(exc, "node", None)
        field = getattr(exc, "field", None)
        problems = [Problem(getattr(exc, "detail", None) or str(exc), node=node, field=field)]
    return problems


def locate(problems: list[Problem], source: str) -> list[LocatedProblem]:
    lines = source.splitlines()
    return [
        LocatedProblem(p.node, p.field, p.message, _line_of(lines, p.node, p.field))
        for p in problems
    ]


def by_node(problems: list[LocatedProblem]) -> dict[str | None, list[LocatedProblem]]:
    grouped: dict[str | None, list[LocatedProblem]] = {}
    for problem in problems:
        grouped.setdefault(problem.node, []).append(problem)
    return grouped


def _line_of(lines: list[str], node: str | None, field: str | None) -> int | None:
    start = _node_line(lines, node) if node else 0
    if start is None:
        return None
    if field:
        leaf = re.split(r"[.\[]", field)[0]
        pattern = re.compile(rf"^\s*(-\s*)?{re.escape(leaf)}\s*:")
        for index in range(start, min(start + 60, len(lines))):
            if index > start and node and _NODE_START.match(lines[index]):
                break  # reached the next node: the field is not written here
            if pattern.match(lines[index]):
                return index + 1
    return start + 1 if node else None


_NODE_START = re.compile(r"^\s*-\s*(\{\s*)?name\s*:")


def _node_line(lines: list[str], node: str) -> int | None:
    quoted = re.escape(node)
    pattern = re.compile(rf"name\s*:\s*['\"]?{quoted}['\"]?\s*(,|\}}|$|#)")
    for index, line in enumerate(lines):
        if pattern.search(line):
            return index
    return None


def names_with_problems(problems: list[Any]) -> set[str]:
    return {p.node for p in problems if getattr(p, "node", None)}
