"""JSON views (camelCase) of runs and of the component catalogue, for the API and UI."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from incidentflow.components.base import Component, Field
from incidentflow.crypto import MASK
from incidentflow.events import Event, iso
from incidentflow.integrations.base import Integration
from incidentflow.jsontext import displayable
from incidentflow.registry import Registry
from incidentflow.store.port import ExecutionRecord, RunRecord
from incidentflow.web.run_views import attempt_view, attempts_of, incident_view, stops


def _when(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def run_summary(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "canvas": run.canvas,
        "canvasVersion": run.canvas_version,
        "triggerNode": run.trigger_node,
        "state": run.state,
        "eventType": run.root.type,
        "incident": incident_view(run.root),  # what the run is about, when it says
        "replayOf": run.replay_of,
        "createdAt": _when(run.created_at),
        "finishedAt": _when(run.finished_at),
    }


def run_view(run: RunRecord, registry: Registry) -> dict[str, Any]:
    secret_names = _secret_field_names(registry)
    return {
        **run_summary(run),
        "root": run.root.as_dict(),
        "replayedAs": run.replayed_as,
        "stoppedAt": [{"node": s.node, "reason": s.reason} for s in stops(run)],
        "executions": [execution_view(e, secret_names) for e in run.executions],
    }


def displayable_run(run: RunRecord) -> RunRecord:
    """``run`` with its stored values safe to show: rows written before ingress refused
    NaN, infinities and lone surrogates may hold them, and no view may fail on them."""
    return replace(
        run,
        root=_displayable_event(run.root),
        executions=[
            replace(
                e,
                input=_displayable_event(e.input),
                resolved_config=displayable(e.resolved_config),
                emitted=displayable(e.emitted),
                error=displayable(e.error),
                error_details=displayable(e.error_details),
            )
            for e in run.executions
        ],
    )


def _displayable_event(event: Event) -> Event:
    return replace(event, type=displayable(event.type), data=displayable(event.data))


def execution_view(execution: ExecutionRecord, secret_names: frozenset[str]) -> dict[str, Any]:
    return {
        "id": execution.id,
        "node": execution.node,
        "state": execution.state,
        "attempts": execution.attempts,
        "idempotencyKey": execution.idempotency_key,
        "input": execution.input.as_dict(),
        "configuration": _masked(execution.resolved_config, secret_names),
        "emitted": execution.emitted,
        "error": execution.error,
        "errorDetails": execution.error_details,
        "createdAt": _when(execution.created_at),
        "startedAt": _when(execution.started_at),
        "finishedAt": _when(execution.finished_at),
        "nextAttemptAt": _when(execution.next_attempt_at),
        "attemptHistory": [attempt_view(a) for a in attempts_of(execution)],
    }


def _masked(config: dict[str, Any] | None, secret_names: frozenset[str]) -> dict[str, Any] | None:
    # The store masks already; this second pass keeps a store bug from leaking a secret.
    if config is None:
        return None
    return {k: (MASK if k in secret_names and v else v) for k, v in config.items()}


def _secret_field_names(registry: Registry) -> frozenset[str]:
    return frozenset(
        f.name for c in registry.components.values() for f in c.fields if f.kind == "secret"
    )


# -- catalogue ------------------------------------------------------------------------


def field_view(field: Field) -> dict[str, Any]:
    return {
        "name": field.name,
        "kind": field.kind,
        "label": field.label,
        "required": field.required,
        "default": field.default,
        "description": field.description,
        "options": [{"value": o.value, "label": o.label} for o in field.options],
        "resource": field.resource,
        "takesExpressions": field.takes_expressions,
    }


def component_view(component: Component) -> dict[str, Any]:
    return {
        "type": component.type,
        "label": component.label,
        "description": component.description,
        "icon": component.icon,
        "role": component.role,
        "integration": component.integration,
        "fields": [field_view(f) for f in component.fields],
        "channels": list(component.channels),
        "hooks": [
            {"name": h.name, "label": h.label, "fields": [field_view(f) for f in h.fields]}
            for h in component.hooks
        ],
        "exampleOutput": component.example_output,
    }


def integration_type_view(integration: Integration) -> dict[str, Any]:
    return {
        "type": integration.type,
        "label": integration.label,
        "description": integration.description,
        "instructions": integration.instructions,
        "fields": [field_view(f) for f in integration.fields],
        "resourceTypes": list(integration.resource_types),
        # (mypy misreads ``type`` in Integration's class body as the class attribute)
        "components": [c.type for c in integration.components],  # type: ignore[attr-defined]
    }


def catalogue(registry: Registry) -> dict[str, Any]:
    return {
        "components": [component_view(c) for c in registry.components.values()],
        "integrations": [integration_type_view(i) for i in registry.integrations.values()],
    }
