"""The node configuration form: fields from the component, values from the canvas or
the posted form, options from the integration, and expression previews."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData

from incidentflow import jsontext
from incidentflow.components.base import Component, Field
from incidentflow.crypto import MASK
from incidentflow.errors import IncidentflowError
from incidentflow.events import Event

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas
    from incidentflow.expression_budget import Budget


@dataclass
class FieldView:
    field: Field
    value: Any
    text: str  # the value as it goes into an input or textarea
    options: list[tuple[str, str]] = dc_field(default_factory=list)  # (value, label)
    options_error: str = ""
    error: str = ""
    preview: str | None = None
    preview_error: str = ""
    # Fails on an event with only the fields the service guarantees: why, and the guard.
    fragile: str = ""
    guard: str = ""

    @property
    def input_id(self) -> str:
        return f"field-{self.field.name}"


def field_views(component: Component, config: dict[str, Any]) -> list[FieldView]:
    views = []
    for spec in component.fields:
        value = config.get(spec.name, spec.default)
        views.append(FieldView(spec, value, _as_text(spec, value), options=_static_options(spec)))
    return views


def config_from_form(
    component: Component, form: FormData, current: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(new configuration, field errors). Empty optional fields are left out; an empty
    secret keeps the stored value."""
    config: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in component.fields:
        key = f"field-{spec.name}"
        try:
            value = _parse(spec, form, key, current.get(spec.name))
        except ValueError as exc:
            errors[spec.name] = str(exc)
            config[spec.name] = form.get(key)
            continue
        if value is not None:
            config[spec.name] = value
    return config, errors


def _parse(spec: Field, form: FormData, key: str, current: Any) -> Any:
    if spec.kind == "multiselect":
        return [str(v) for v in form.getlist(key)] or None
    if spec.kind == "boolean":
        return form.get(key) == "on"
    raw = str(form.get(key) or "")
    if spec.kind == "secret":
        return current if raw in ("", MASK) else raw
    if raw.strip() == "":
        return None
    if spec.kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        return int(number) if number.is_integer() else number
    if spec.kind == "object":
        try:
            return jsontext.decode(raw)
        except jsontext.JsonRejected as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    return raw.replace("\r\n", "\n")


def _as_text(spec: Field, value: Any) -> str:
    if value is None:
        return ""
    if spec.kind == "secret":
        return MASK
    if spec.kind == "object":
        return json.dumps(value, indent=2)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _static_options(spec: Field) -> list[tuple[str, str]]:
    return [(o.value, o.label) for o in spec.options]


def example_scope(
    canvas: Canvas, node: str, registry: Any, *, minimal: bool = False
) -> tuple[dict[str, Any], str]:
    """The expression scope a node would see, built from the example events of the
    nodes upstream. Returns (scope, the trigger it came from). ``minimal``: the
    examples with only the fields their service guarantees, where a component has one."""
    from incidentflow.expressions import scope_for

    upstream = _upstream(canvas, node)
    examples: dict[str, Event] = {}
    trigger = ""
    for name in upstream:
        component = registry.components.get(canvas.node(name).type)
        if component is None:
            continue
        example = (minimal and component.example_minimal) or component.example_output
        if example:
            examples[name] = Event.from_dict(example)
        if component.role == "trigger" and not trigger:
            trigger = name
    root = examples.get(trigger) or Event(type="start.manual", data={})
    previous = next((examples[n] for n in upstream if n in examples), root)
    return scope_for(root, previous, examples, "preview", canvas.name), trigger


def _upstream(canvas: Canvas, node: str) -> list[str]:
    """Nodes upstream of ``node``, nearest first (breadth-first against the edges)."""
    order: list[str] = []
    frontier = [node]
    while frontier:
        nxt = []
        for target in frontier:
            for edge in canvas.edges:
                if edge.target == target and edge.source not in order and edge.source != node:
                    order.append(edge.source)
                    nxt.append(edge.source)
        frontier = nxt
    return order


def add_previews(
    views: list[FieldView],
    scope: dict[str, Any],
    node: str,
    budget: Budget | None = None,
    minimal_scope: dict[str, Any] | None = None,
) -> None:
    """Each expression field's value against ``scope``, under ``budget`` like a run;
    then, for those that worked, against ``minimal_scope`` (only guaranteed fields),
    to say which would fail on a real event and how to guard it.
    Synchronous and possibly slow: call it in the expression pool (``off_loop``)."""
    for view in views:
        if not view.field.takes_expressions or view.value in (None, ""):
            continue
        try:
            result = _evaluate(view, scope, node, budget)
        except IncidentflowError as exc:
            view.preview_error = getattr(exc, "detail", None) or str(exc)
            continue
        except Exception as exc:  # a preview must never break the page
            view.preview_error = f"cannot preview: {type(exc).__name__}"
            continue
        view.preview = (result if isinstance(result, str)
                        else json.dumps(result, indent=2, ensure_ascii=False))
        if minimal_scope is not None:
            _check_fragile(view, minimal_scope, node, budget)


def _evaluate(view: FieldView, scope: dict[str, Any], node: str, budget: Budget | None) -> Any:
    from incidentflow.expressions import EXPRESSIONS

    if view.field.kind == "condition":
        return EXPRESSIONS.evaluate(str(view.value), scope, node, view.field.name, budget)
    return EXPRESSIONS.render(view.value, scope, node, view.field.name, budget)


# "root.data.incident has no field 'summary' (fields: ...)": the expressions' message
# for a missing field (expressions.py), which names the object and the field.
_MISSING = re.compile(r"^(?P<owner>[\w.\[\]'\"]+) has no field '(?P<field>\w+)'")


def _check_fragile(
    view: FieldView, scope: dict[str, Any], node: str, budget: Budget | None
) -> None:
    try:
        _evaluate(view, scope, node, budget)
    except IncidentflowError as exc:
        message = getattr(exc, "detail", None) or str(exc)
        view.fragile = message
        view.guard = guard_for(message, _texts(view.value))
    except Exception:  # noqa: S110 - a preview must never break the page
        pass


def guard_for(message: str, texts: list[str]) -> str:
    """The guarded form of the expression a missing-field ``message`` is about:
    ``x.summary`` → ``x.summary | default('')``; ``x.severity.name`` →
    ``(x.severity | default({})).name | default('')``. "" when not recognised."""
    found = _MISSING.match(message)
    if not found:
        return ""
    missing = f"{found['owner']}.{found['field']}"
    for text in texts:
        use = re.search(re.escape(missing) + r"(?![\w])((?:\.\w+)*)", text)
        if use is None:
            continue
        rest = use.group(1)
        if not rest:
            return f"{missing} | default('')"
        return f"({missing} | default({{}})){rest} | default('')"
    return f"{missing} | default('')"


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []
