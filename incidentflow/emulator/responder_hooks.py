"""Test hooks under ``/_emulator/`` for what responders do in incident.io's apps, so the
webhooks that follow can be tried: acknowledge or resolve an escalation, complete a
follow-up. Each sends the webhook incident.io would."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.emulator import catalog
from incidentflow.emulator.api import dispatcher_of, read_json, state_of
from incidentflow.emulator.ids import new_ulid
from incidentflow.emulator.payloads import choice
from incidentflow.emulator.problems import not_found

ESCALATION_STATUSES = ("pending", "triggered", "acked", "resolved", "expired", "cancelled")
FOLLOW_UP_STATUSES = ("outstanding", "completed", "deleted", "not_doing")
# The escalation event recorded for a status a responder sets.
STATUS_EVENTS = {"acked": "acked", "resolved": "resolved", "expired": "expired",
                 "cancelled": "cancelled", "triggered": "triggered"}


def _find(items: list[dict[str, Any]], wanted: str, what: str) -> dict[str, Any]:
    for item in items:
        if item["id"] == wanted:
            return item
    raise not_found(f"No {what} found with id {wanted!r}")


async def set_escalation_status(request: Request) -> Response:
    """``{"status": "acked"}``: sends ``{public|private}_escalation.escalation_status_updated_v1``
    with the previous and new status and the responder as actor."""
    state = state_of(request)
    escalation = _find(state.escalations, request.path_params["id"], "escalation")
    status = choice(await read_json(request), "status", ESCALATION_STATUSES)
    previous = escalation["status"]
    if status != previous:
        now = state.now()
        escalation.update(status=status, updated_at=now)
        if status in STATUS_EVENTS:
            escalation["events"].append({"id": new_ulid(), "event": STATUS_EVENTS[status],
                                         "occurred_at": now})
        private = any(i["visibility"] == "private" for i in escalation["related_incidents"])
        change = {"escalation": escalation, "previous_status": previous, "new_status": status,
                  "actor": catalog.dashboard_user_actor()}
        prefix = "private" if private else "public"
        dispatcher_of(request).publish(f"{prefix}_escalation.escalation_status_updated_v1",
                                       change)
    return JSONResponse({"escalation": escalation})


async def set_follow_up_status(request: Request) -> Response:
    """``{"status": "completed"}``: sends ``{public|private}_incident.follow_up_updated_v2``."""
    state = state_of(request)
    follow_up = _find(state.follow_ups, request.path_params["id"], "follow-up")
    status = choice(await read_json(request), "status", FOLLOW_UP_STATUSES)
    if status != follow_up["status"]:
        now = state.now()
        follow_up.update(status=status, updated_at=now)
        if status == "completed":
            follow_up["completed_at"] = now
        incident = state.get_incident(follow_up["incident_id"])
        prefix = "private" if incident["visibility"] == "private" else "public"
        dispatcher_of(request).publish(f"{prefix}_incident.follow_up_updated_v2", follow_up)
    return JSONResponse({"follow_up": follow_up})


ROUTES = [
    Route("/_emulator/escalations/{id}/status", set_escalation_status, methods=["POST"]),
    Route("/_emulator/follow_ups/{id}/status", set_follow_up_status, methods=["POST"]),
]
