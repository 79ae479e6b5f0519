"""Follow-ups (v2): create and show, with the ``follow_up_created_v2`` webhook."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.emulator import catalog
from incidentflow.emulator.api import dispatcher_of, read_json, state_of
from incidentflow.emulator.auth import requires
from incidentflow.emulator.ids import new_ulid
from incidentflow.emulator.payloads import lookup, optional_text, required_text
from incidentflow.emulator.problems import not_found, validation_error
from incidentflow.emulator.state import EmulatorState


def priorities() -> list[dict[str, Any]]:
    """The organisation's follow-up priority options (FollowUpPriorityV2)."""
    return [
        {"id": "01FCNDV6P870EA6S7TK1DSYDP0", "name": "Low", "rank": 1,
         "description": "When there is time"},
        {"id": "01FCNDV6P870EA6S7TK1DSYDP1", "name": "High", "rank": 2,
         "description": "Before the next on-call shift"},
    ]


def build_follow_up(state: EmulatorState, payload: dict[str, Any]) -> dict[str, Any]:
    """A FollowUpV2 from a checked FollowUpsCreatePayloadV2 (unknown references: 422)."""
    title = required_text(payload, "title")
    incident_id = required_text(payload, "incident_id")
    found = state.find_incident(incident_id)
    if found is None or found["id"] != incident_id:  # the id itself, not a reference
        raise validation_error("not_found", f"No incident exists with id {incident_id!r}",
                               "incident_id")
    now = state.now()
    follow_up: dict[str, Any] = {
        "id": new_ulid(), "incident_id": incident_id, "title": title,
        "status": "outstanding", "labels": [], "creator": catalog.api_key_actor(),
        "created_at": now, "updated_at": now,
    }
    if optional_text(payload, "description"):
        follow_up["description"] = payload["description"]
    if optional_text(payload, "assignee_id"):
        follow_up["assignee"] = dict(lookup(state.users, payload["assignee_id"], "assignee_id",
                                            "user"))
    if optional_text(payload, "follow_up_priority_option_id"):
        follow_up["priority"] = lookup(priorities(), payload["follow_up_priority_option_id"],
                                       "follow_up_priority_option_id", "follow-up priority")
    return follow_up


@requires("follow_ups.create")
async def create_follow_up(request: Request) -> Response:
    state = state_of(request)
    follow_up = build_follow_up(state, await read_json(request))
    state.follow_ups.append(follow_up)
    incident = state.get_incident(follow_up["incident_id"])
    visibility = "private" if incident["visibility"] == "private" else "public"
    dispatcher_of(request).publish(f"{visibility}_incident.follow_up_created_v2", follow_up)
    return JSONResponse({"follow_up": follow_up}, status_code=201)


@requires("actions.view")
async def show_follow_up(request: Request) -> Response:
    wanted = request.path_params["id"]
    for follow_up in state_of(request).follow_ups:
        if follow_up["id"] == wanted:
            return JSONResponse({"follow_up": follow_up})
    raise not_found(f"No follow-up found with id {wanted!r}")


ROUTES = [
    Route("/v2/follow_ups", create_follow_up, methods=["POST"]),
    Route("/v2/follow_ups/{id}", show_follow_up, methods=["GET"]),
]
