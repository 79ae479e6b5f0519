"""A node's configuration as its component receives it, and as the run page shows it.

Field kinds decide: ``template`` and ``object`` values are rendered, ``condition`` is
evaluated to a bool, everything else passes through. Keys the component does not
declare pass through untouched (validation happens when the canvas is saved).

Every field is evaluated under the expression budget (``expression_budget``); a node
whose expressions are more than plain lookups is resolved in the expression pool, off
the event loop (``resolve_config_async``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from incidentflow.canvas import Node
from incidentflow.components.base import Component, Field
from incidentflow.crypto import MASK
from incidentflow.expression_budget import Budget
from incidentflow.expression_pool import off_loop
from incidentflow.expressions import EXPRESSIONS


def resolve_config(
    node: Node, component: Component, scope: Mapping[str, Any], budget: Budget | None = None
) -> dict[str, Any]:
    """The configuration with its expressions evaluated, each field under ``budget``."""
    config = dict(node.configuration)
    for field in component.fields:
        if field.name not in config:
            if field.default is None:
                continue
            config[field.name] = field.default
        config[field.name] = _resolve(field, config[field.name], scope, node.name, budget)
    return config


async def resolve_config_async(
    node: Node, component: Component, scope: Mapping[str, Any], budget: Budget | None,
    *, inline: bool,
) -> dict[str, Any]:
    """``resolve_config`` on the event loop when ``inline`` (``resolves_inline``: plain
    lookups, fast), else in the expression pool, so a slow template cannot stall it."""
    if inline:
        return resolve_config(node, component, scope, budget)
    return await off_loop(resolve_config, node, component, scope, budget)


def resolves_inline(node: Node, component: Component) -> bool:
    """Whether every expression of the node is a plain lookup (``inline_safe``)."""
    for field in component.fields:
        value = node.configuration.get(field.name, field.default)
        if field.kind == "condition" and isinstance(value, str):
            inline = EXPRESSIONS.inline_safe(value, condition=True)
        elif field.kind in ("template", "object"):
            inline = all(EXPRESSIONS.inline_safe(text) for text in _strings(value))
        else:
            inline = True
        if not inline:
            return False
    return True


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


def _resolve(
    field: Field, value: Any, scope: Mapping[str, Any], node: str, budget: Budget | None
) -> Any:
    if field.kind in ("template", "object"):
        return EXPRESSIONS.render(value, scope, node, field.name, budget)
    if field.kind == "condition" and isinstance(value, str):
        return EXPRESSIONS.condition(value, scope, node, field.name, budget)
    return value


def masked(component: Component, config: Mapping[str, Any]) -> dict[str, Any]:
    """What may be stored and shown: secret-kind fields replaced by the mask."""
    secret = {f.name for f in component.fields if f.kind == "secret"}
    return {k: (MASK if k in secret and v not in (None, "") else v) for k, v in config.items()}
