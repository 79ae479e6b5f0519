"""Escalations (v2): create (deduplicated by idempotency key) and show, with the
``escalation_created_v1`` webhook."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.emulator.api import dispatcher_of, read_json, state_of
from incidentflow.emulator.auth import requires
from incidentflow.emulator.ids import new_ulid
from incidentflow.emulator.payloads import (
    lookup,
    optional_list_of_text,
    optional_text,
    required_text,
)
from incidentflow.emulator.problems import not_found, validation_error
from incidentflow.emulator.state import EmulatorState

# IncidentStatusV2 categories as IncidentSlimV2's status_category names them.
SLIM_CATEGORIES = {"live": "active", "learning": "post-incident"}


def slim_incident(incident: dict[str, Any]) -> dict[str, Any]:
    category = incident["incident_status"]["category"]
    slim = {key: incident[key] for key in ("id", "name", "reference", "visibility")}
    return {**slim, "external_id": int(incident["reference"].removeprefix("INC-")),
            "status_category": SLIM_CATEGORIES.get(category, category)}


def build_escalation(state: EmulatorState, payload: dict[str, Any]) -> dict[str, Any]:
    """An EscalationV2 from a checked EscalationsCreatePayloadV2."""
    title = required_text(payload, "title")
    path_id = optional_text(payload, "escalation_path_id")
    users = optional_list_of_text(payload, "user_ids")
    if not path_id and not users:
        raise validation_error("is_required",
                               "Provide an escalation_path_id or at least one user_ids entry",
                               "escalation_path_id")
    if path_id:
        lookup(state.escalation_paths, path_id, "escalation_path_id", "escalation path")
    paged = [dict(lookup(state.users, user_id, f"user_ids[{index}]", "user"))
             for index, user_id in enumerate(users)]
    related = []
    if optional_text(payload, "incident_id"):
        incident = state.find_incident(payload["incident_id"])
        if incident is None:
            raise validation_error("not_found",
                                   f"No incident exists with id {payload['incident_id']!r}",
                                   "incident_id")
        related.append(slim_incident(incident))
    now = state.now()
    events: list[dict[str, Any]] = [{"id": new_ulid(), "event": "triggered", "occurred_at": now}]
    if paged:
        events.append({"id": new_ulid(), "event": "notified_users", "occurred_at": now,
                       "urgency": "high", "users": paged})
    escalation: dict[str, Any] = {
        "id": new_ulid(), "title": title, "status": "triggered",
        "description": optional_text(payload, "description") or title,
        "priority": {"name": "High"}, "creator": {}, "events": events,
        "related_incidents": related, "related_alerts": [],
        "created_at": now, "updated_at": now,
    }
    if path_id:
        escalation["escalation_path_id"] = path_id
    return escalation


@requires("escalations.create")
async def create_escalation(request: Request) -> Response:
    state = state_of(request)
    payload = await read_json(request)
    key = required_text(payload, "idempotency_key")
    known = state.escalation_keys.get(key)
    if known is not None:  # the same key again: the escalation it made, nobody paged twice
        return JSONResponse({"escalation": _find(state, known)}, status_code=201)
    escalation = build_escalation(state, payload)
    state.escalations.append(escalation)
    state.escalation_keys[key] = escalation["id"]
    private = any(i["visibility"] == "private" for i in escalation["related_incidents"])
    prefix = "private" if private else "public"
    dispatcher_of(request).publish(f"{prefix}_escalation.escalation_created_v1", escalation)
    return JSONResponse({"escalation": escalation}, status_code=201)


def _find(state: EmulatorState, escalation_id: str) -> dict[str, Any]:
    for escalation in state.escalations:
        if escalation["id"] == escalation_id:
            return escalation
    raise not_found(f"No escalation found with id {escalation_id!r}")


@requires("escalations.view")
async def show_escalation(request: Request) -> Response:
    return JSONResponse({"escalation": _find(state_of(request), request.path_params["id"])})


ROUTES = [
    Route("/v2/escalations", create_escalation, methods=["POST"]),
    Route("/v2/escalations/{id}", show_escalation, methods=["GET"]),
]
