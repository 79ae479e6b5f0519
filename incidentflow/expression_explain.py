"""Why an expression's value was missing, in the expression's own words: Jinja's
"'dict object' has no attribute 'x'" becomes "root.data has no field 'x' (fields: ...)",
"node 'Fetch' has not emitted an event in this run", "secret 'X' is not set"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, nodes
from jinja2.runtime import Undefined
from jinja2.utils import missing

from incidentflow.expression_ast import const_key, lookups

# The names an expression sees (``expressions.scope_for``); listed when one is unknown.
SCOPE_NAMES = ("nodes", "previous", "root", "run", "secrets")


def explain_missing(
    env: Environment, undefined: Undefined, source: str, scope: Mapping[str, Any]
) -> str:
    """Turn Jinja's "'dict object' has no attribute 'x'" into "root.data has no field 'x'"."""
    obj, name = undefined._undefined_obj, undefined._undefined_name
    if undefined._undefined_hint:
        return undefined._undefined_hint
    if obj is missing:
        return f"unknown name {name!r} (names: {', '.join(SCOPE_NAMES)})"
    try:
        path = _path_of(env, obj, name, source, scope)
    except TemplateSyntaxError:
        path = None
    if path is None:
        return undefined._undefined_message
    return _missing_message(path, obj, name)


def _path_of(
    env: Environment, obj: Any, name: Any, source: str, scope: Mapping[str, Any]
) -> str | None:
    """How the expression spelled the value ``obj`` whose ``name`` was missing."""
    for node in lookups(env.parse(source)):
        if const_key(node) != name:
            continue
        resolved = _resolve(env, node.node, scope)
        if resolved is not None and resolved[1] is obj:
            return resolved[0]
    return None


def _resolve(
    env: Environment, node: nodes.Node, scope: Mapping[str, Any]
) -> tuple[str, Any] | None:
    """(spelling, value) of a constant chain like ``root.data["x"]``, or None."""
    if isinstance(node, nodes.Name):
        return (node.name, scope[node.name]) if node.name in scope else None
    if not isinstance(node, nodes.Getattr | nodes.Getitem):
        return None
    key, parent = const_key(node), _resolve(env, node.node, scope)
    if parent is None or key is None:
        return None
    spelling, value = parent
    if isinstance(node, nodes.Getattr):
        spelling, value = f"{spelling}.{key}", env.getattr(value, key)
    else:
        spelling, value = f"{spelling}[{key!r}]", env.getitem(value, key)
    return None if isinstance(value, Undefined) else (spelling, value)


def _missing_message(path: str, obj: Any, name: Any) -> str:
    if path == "nodes":
        return f"node {name!r} has not emitted an event in this run"
    if path == "secrets":  # never list the others: names are enough of a hint
        return (f"secret {name!r} is not set (set it on the Secrets page or with "
                f"`incidentflow secrets set {name}`)")
    if isinstance(obj, dict):
        return f"{path} has no field {name!r} (fields: {_field_list(obj)})"
    if isinstance(obj, list | tuple) and isinstance(name, int):
        return f"{path} has no item {name} (it has {len(obj)})"
    if obj is None:
        return f"{path} is null, so it has no field {name!r}"
    return f"{path} is a {type(obj).__name__} ({obj!r:.40}), so it has no field {name!r}"


_LISTED_FIELDS = 12  # enough to spot a typo; a long object would swamp the message


def _field_list(obj: dict[Any, Any]) -> str:
    names = sorted(map(str, obj))
    listed = ", ".join(names[:_LISTED_FIELDS]) or "none"
    return listed + ", …" if len(names) > _LISTED_FIELDS else listed
