"""A node's configuration as its component receives it, and as the run page shows it.

Field kinds decide: ``template`` and ``object`` values are rendered, ``condition`` is
evaluated to a bool, everything else passes through. Keys the component does not
declare pass through untouched (validation happens when the canvas is saved).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from incidentflow.canvas import Node
from incidentflow.components.base import Component, Field
from incidentflow.crypto import MASK
from incidentflow.expressions import EXPRESSIONS


def resolve_config(node: Node, component: Component, scope: Mapping[str, Any]) -> dict[str, Any]:
    config = dict(node.configuration)
    for field in component.fields:
        if field.name not in config:
            if field.default is None:
                continue
            config[field.name] = field.default
        config[field.name] = _resolve(field, config[field.name], scope, node.name)
    return config


def uses_expressions(node: Node, component: Component) -> bool:
    """Whether resolving may read the scope (a condition, or ``{{`` in a template)."""
    for field in component.fields:
        value = node.configuration.get(field.name, field.default)
        if field.kind == "condition" and value is not None:
            return True
        if field.kind in ("template", "object") and _templated(json.dumps(value, default=str)):
            return True
    return False


def reads_nodes(node: Node, component: Component) -> bool:
    """Whether resolving may read ``nodes`` (the run's earlier events), which costs a
    query; ``root`` and ``previous`` come with the execution."""
    for field in component.fields:
        value = node.configuration.get(field.name, field.default)
        if field.kind == "condition" and isinstance(value, str):
            reads = EXPRESSIONS.reads(value, "nodes", condition=True)
        elif field.kind in ("template", "object"):
            reads = any(EXPRESSIONS.reads(text, "nodes") for text in _strings(value))
        else:
            reads = False
        if reads:
            return True
    return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _templated(text: str) -> bool:
    return "{{" in text or "{%" in text


def _resolve(field: Field, value: Any, scope: Mapping[str, Any], node: str) -> Any:
    if field.kind in ("template", "object"):
        return EXPRESSIONS.render(value, scope, node, field.name)
    if field.kind == "condition" and isinstance(value, str):
        return EXPRESSIONS.condition(value, scope, node, field.name)
    return value


def masked(component: Component, config: Mapping[str, Any]) -> dict[str, Any]:
    """What may be stored and shown: secret-kind fields replaced by the mask."""
    secret = {f.name for f in component.fields if f.kind == "secret"}
    return {k: (MASK if k in secret and v not in (None, "") else v) for k, v in config.items()}
