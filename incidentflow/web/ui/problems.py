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
    node_lines = _node_lines(lines)
    return [
        LocatedProblem(p.node, p.field, p.message, _line_of(lines, node_lines, p.node, p.field))
        for p in problems
    ]


def by_node(problems: list[LocatedProblem]) -> dict[str | None, list[LocatedProblem]]:
    grouped: dict[str | None, list[LocatedProblem]] = {}
    for problem in problems:
        grouped.setdefault(problem.node, []).append(problem)
    return grouped


def _line_of(
    lines: list[str], node_lines: dict[str, int], node: str | None, field: str | None
) -> int | None:
    start = node_lines.get(node) if node else 0
    if start is None:
        return None
    if field:
        # configuration.body.text is written as body: under the node's configuration:
        inner = field.removeprefix("configuration.")
        leaf = re.split(r"[.\[]", inner)[0]
        pattern = re.compile(rf"^\s*(-\s*)?{re.escape(leaf)}\s*:")
        for index in range(start, min(start + 60, len(lines))):
            if index > start and node and _NODE_START.match(lines[index]):
                break  # reached the next node: the field is not written here
            if pattern.match(lines[index]):
                return index + 1
    return start + 1 if node else None


_NODE_START = re.compile(r"^\s*-\s*(\{\s*)?name\s*:")


# ``name: X`` (quoted or not) ended by a comma, a brace, a comment or the line's end.
# Node names cannot contain those characters, so the capture is the whole name.
_NAME_VALUE = re.compile(r"""name\s*:\s*['"]?([^,}#'"]*?)['"]?\s*(?:,|\}|$|#)""")


def _node_lines(lines: list[str]) -> dict[str, int]:
    """The line where each name is first written, in one pass over the source
    (searching the whole source once per problem took minutes on a large canvas
    with many problems)."""
    found: dict[str, int] = {}
    for index, line in enumerate(lines):
        for match in _NAME_VALUE.finditer(line):
            found.setdefault(match.group(1), index)
    return found


def configuration_field(field: str | None) -> str | None:
    """The configuration field a problem's full path is about (``configuration.body.text``
    is about ``body``); None when it is about something else."""
    if not field or not field.startswith("configuration."):
        return None
    return re.split(r"[.\[]", field.removeprefix("configuration."))[0]


def names_with_problems(problems: list[Any]) -> set[str]:
    return {p.node for p in problems if getattr(p, "node", None)}
