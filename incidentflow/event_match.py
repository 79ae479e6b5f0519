"""The index rule of the ``waitForEvent`` step: which part of ``match`` finds candidates.

A waiting run is not found by evaluating every waiting run's ``match`` against every
event. Instead, ``match`` is read once for an equality usable as an index
(docs/time.md, "The index rule"):

- ``match`` is split on its top-level ``and``s; the first part that is exactly
  ``<event path> == <expression without event>`` (either order) is the index. An
  event path is ``event`` followed by fields and constant subscripts only
  (``event.data.incident.id``, ``event.data["incident"]["id"]``).
- When the wait begins, the other side is evaluated (with ``root``, ``previous``,
  ``run``) and stored as the wait's key; when an event arrives, the value at the path
  is looked up in it and only waits with that key are candidates. The whole ``match``
  is then evaluated on those candidates alone.
- A ``match`` with no such part (an ``or`` at the top, only inequalities...) is
  "keyless": every event of the type is offered to the canvas's keyless waits.

Keys compare as canonical JSON text, so ``"42"`` and ``42`` are different keys (as
they are different values for ``==``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.parser import Parser

from incidentflow.expressions import EXPRESSIONS, SCOPE_NAMES

EVENT = "event"
KEYLESS = ""  # the stored path of a keyless wait
MATCH_NAMES = frozenset((*SCOPE_NAMES, EVENT)) - {"secrets"}
_MAX_KEY = 400  # the column holds 500; longer keys are stored as their hash
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
PathPart = str | int


@dataclass(frozen=True)
class MatchRule:
    """What ``match`` offers the index: the event path and the expression of the other
    side, or neither (keyless)."""

    path: tuple[PathPart, ...] | None = None
    other_side: str | None = None

    @property
    def stored_path(self) -> str:
        return json.dumps(list(self.path)) if self.path else KEYLESS


def problem_of(match: Any) -> str | None:
    """Why ``match`` is not a usable expression (syntax, unknown names), or None."""
    if not isinstance(match, str) or not match.strip():
        return "give an expression such as event.data.incident.id == root.data.incident.id"
    try:
        ast = _parse(match)
    except TemplateSyntaxError as exc:
        return f"syntax error: {exc.message}"
    unknown = sorted(meta.find_undeclared_variables(ast) - MATCH_NAMES
                     - set(EXPRESSIONS.env.globals))
    if unknown:
        return (f"unknown name {', '.join(map(repr, unknown))} "
                f"(names: {', '.join(sorted(MATCH_NAMES))})")
    if EVENT not in meta.find_undeclared_variables(ast):
        return "the expression never reads event: every event would match"
    return None


@lru_cache(maxsize=1024)  # every wait of a node reads the same match
def rule_of(match: str) -> MatchRule:
    """The index this ``match`` offers (keyless when it offers none)."""
    try:
        for part in _conjuncts(_tokens(match)):
            found = _equality(part)
            if found is not None and len(found.stored_path) <= _MAX_KEY:
                return found
    except TemplateSyntaxError:
        pass
    return MatchRule()


def key_of(value: Any) -> str | None:
    """A value as the text stored and looked up; None for what cannot be a key."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 3.0 == 3 in an expression: the same key
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None
    if len(text) > _MAX_KEY:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def event_key(event: Mapping[str, Any], stored_path: str) -> str | None:
    """The key of an arriving event (``{type, timestamp, data}``) at a stored path, or
    None when the path does not lead to a value."""
    value: Any = event
    for part in json.loads(stored_path):
        if not _has(value, part):
            return None
        value = value[part]
    return key_of(value)


def _has(value: Any, part: PathPart) -> bool:
    if isinstance(value, Mapping):
        return part in value
    return isinstance(value, list) and isinstance(part, int) and -len(value) <= part < len(value)


# -- reading the expression --------------------------------------------------------------

def _parse(text: str) -> nodes.Template:
    parser = Parser(EXPRESSIONS.env, text, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        parser.fail("unexpected text after the expression", parser.stream.current.lineno)
    ast = nodes.Template([nodes.Output([expression])])
    ast.set_environment(EXPRESSIONS.env)
    return ast


def _tokens(match: str) -> list[tuple[str, str]]:
    """(kind, source text) of each token of ``match``, whitespace included."""
    found = [(kind, value) for _, kind, value in EXPRESSIONS.env.lex("{{ " + match + " }}")]
    if len(found) < 2 or found[0][0] != "variable_begin" or found[-1][0] != "variable_end":
        raise TemplateSyntaxError("not one expression", 1)
    return found[1:-1]


def _conjuncts(tokens: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """The parts between top-level ``and``s; nothing when an ``or`` or a conditional is
    at the top (then no part alone decides the match)."""
    depth = 0
    part: list[tuple[str, str]] = []
    parts: list[list[tuple[str, str]]] = []
    for kind, value in tokens:
        depth += (kind == "operator" and value in _OPEN) - (kind == "operator" and value in _CLOSE)
        if depth == 0 and kind == "name" and value in ("or", "if", "else"):
            return iter(())
        if depth == 0 and kind == "name" and value == "and":
            parts.append(part)
            part = []
            continue
        part.append((kind, value))
    parts.append(part)
    return iter(parts)


def _equality(part: list[tuple[str, str]]) -> MatchRule | None:
    """The rule of one ``a == b`` part, when one side is an event path and the other
    does not read ``event``."""
    part = _unwrapped(part)
    depth, split = 0, None
    for index, (kind, value) in enumerate(part):
        depth += (kind == "operator" and value in _OPEN) - (kind == "operator" and value in _CLOSE)
        if depth:
            continue
        if kind == "operator" and value in ("==", "!=", "<", "<=", ">", ">="):
            if value != "==" or split is not None:
                return None  # another comparison: not a plain equality
            split = index
        elif kind == "name" and value in ("not", "in", "is", "and", "or", "if", "else"):
            return None  # negated, compared otherwise, or more than one condition
    if split is None:
        return None
    left = "".join(value for _, value in part[:split]).strip()
    right = "".join(value for _, value in part[split + 1:]).strip()
    for event_side, other in ((left, right), (right, left)):
        path = _event_path(event_side)
        if path is not None and other and not _reads_event(other):
            return MatchRule(path, other)
    return None


def _unwrapped(part: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``part`` without whitespace around it and without parentheses around it all."""
    tokens = list(part)
    while tokens and tokens[0][0] == "whitespace":
        tokens = tokens[1:]
    while tokens and tokens[-1][0] == "whitespace":
        tokens = tokens[:-1]
    if len(tokens) < 2 or tokens[0] != ("operator", "(") or tokens[-1] != ("operator", ")"):
        return tokens
    depth = 0
    for index, (kind, value) in enumerate(tokens):
        depth += (kind == "operator" and value in _OPEN) - (kind == "operator" and value in _CLOSE)
        if depth == 0 and index < len(tokens) - 1:
            return tokens  # "(a) == (b)": the first parenthesis closes before the end
    return _unwrapped(tokens[1:-1])


def _event_path(text: str) -> tuple[PathPart, ...] | None:
    try:
        expression = _parse(text).body[0].nodes[0]  # type: ignore[attr-defined]
    except (TemplateSyntaxError, AttributeError, IndexError):
        return None
    path: list[PathPart] = []
    while isinstance(expression, nodes.Getattr | nodes.Getitem):
        if isinstance(expression, nodes.Getattr):
            path.append(expression.attr)
        elif isinstance(expression.arg, nodes.Const) and isinstance(
                expression.arg.value, str | int) and not isinstance(expression.arg.value, bool):
            path.append(expression.arg.value)
        else:
            return None
        expression = expression.node
    if not (isinstance(expression, nodes.Name) and expression.name == EVENT) or not path:
        return None
    return tuple(reversed(path))


def _reads_event(text: str) -> bool:
    try:
        return EVENT in meta.find_undeclared_variables(_parse(text))
    except TemplateSyntaxError:
        return True  # not usable alone: treat as reading everything
