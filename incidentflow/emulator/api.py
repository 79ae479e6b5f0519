"""The emulated incident.io API: severities and incidents (v2). Follow-ups, escalations,
alerts and the organisation's settings have their own modules."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.emulator import catalog
from incidentflow.emulator.auth import requires
from incidentflow.emulator.incidents import (
    check_create_payload,
    check_edit_payload,
    require_object,
)
from incidentflow.emulator.listing import list_page
from incidentflow.emulator.problems import bad_request
from incidentflow.emulator.state import EmulatorState
from incidentflow.emulator.webhooks import WebhookDispatcher


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from exc
    return require_object(body)


def state_of(request: Request) -> EmulatorState:
    return request.app.state.emulator


def dispatcher_of(request: Request) -> WebhookDispatcher:
    return request.app.state.dispatcher


def permalink_base(request: Request) -> str:
    configured = request.app.state.permalink_base
    return configured or f"{str(request.base_url).rstrip('/')}/{catalog.ORGANISATION_SLUG}"


@requires("severities.view")
async def list_severities(request: Request) -> Response:
    return JSONResponse({"severities": state_of(request).severities})


@requires("incidents.create")
async def create_incident(request: Request) -> Response:
    payload = await read_json(request)
    check_create_payload(payload)
    state = state_of(request)
    # Same key -> the incident it opened, whatever the body says now (no second incident).
    existing = state.incident_for_key(payload["idempotency_key"])
    if existing is not None:
        return JSONResponse({"incident": existing})
    incident = state.open_incident(payload, catalog.api_key_actor(), permalink_base(request))
    sent = dispatcher_of(request).publish_incident(incident, "created")
    if state.webhook_lead_seconds > 0:  # the webhook overtakes this answer
        await dispatcher_of(request).wait_sent(sent, state.webhook_lead_seconds)
        await asyncio.sleep(state.webhook_lead_seconds)
    return JSONResponse({"incident": incident})


@requires("incidents.view")
async def show_incident(request: Request) -> Response:
    incident = state_of(request).get_incident(request.path_params["id"])
    return JSONResponse({"incident": incident})


@requires("incidents.view")
async def list_incidents(request: Request) -> Response:
    return JSONResponse(list_page(state_of(request).incidents, request.query_params))


@requires("incidents.edit")
async def edit_incident(request: Request) -> Response:
    changes = check_edit_payload(await read_json(request))
    before = dict(state_of(request).get_incident(request.path_params["id"])["incident_status"])
    incident, changed = state_of(request).edit_incident(request.path_params["id"], changes)
    if changed:
        dispatcher_of(request).publish_incident_edit(incident, before)
    return JSONResponse({"incident": incident})


ROUTES = [
    Route("/v1/severities", list_severities, methods=["GET"]),
    Route("/v2/incidents", list_incidents, methods=["GET"]),
    Route("/v2/incidents", create_incident, methods=["POST"]),
    Route("/v2/incidents/{id}", show_incident, methods=["GET"]),
    Route("/v2/incidents/{id}/actions/edit", edit_incident, methods=["POST"]),
]
