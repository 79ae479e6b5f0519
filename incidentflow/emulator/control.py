"""Test hooks under ``/_emulator/``: what a person would do in incident.io's UI, and
what tests need to look inside (requests received, deliveries, faults, reset).

No authentication: the emulator is a local tool.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.emulator import catalog, endpoints
from incidentflow.emulator.api import dispatcher_of, permalink_base, read_json, state_of
from incidentflow.emulator.faults import Fault, FaultPlan
from incidentflow.emulator.incidents import check_create_payload
from incidentflow.emulator.problems import bad_request, not_found


def faults_of(request: Request) -> FaultPlan:
    return request.app.state.faults


async def open_incident_as_person(request: Request) -> Response:
    """Like a responder declaring an incident in the dashboard: created webhook fires."""
    body = await read_json(request)
    state = state_of(request)
    payload: dict[str, Any] = {
        "visibility": "public",
        "severity_id": state.severities[0]["id"],
        **body,
    }
    payload.pop("idempotency_key", None)
    check_create_payload(payload, require_idempotency_key=False)
    incident = state.open_incident(payload, catalog.dashboard_user_actor(), permalink_base(request))
    dispatcher_of(request).publish_incident(incident, "created")
    return JSONResponse({"incident": incident}, status_code=201)


async def publish_event(request: Request) -> Response:
    """``{"event_type": T, "resource": {...}}``: send any webhook event type, as
    incident.io would on that change (private types carry only the resource's id)."""
    body = await read_json(request)
    event_type, resource = body.get("event_type"), body.get("resource")
    if not isinstance(event_type, str) or not event_type:
        raise bad_request("event_type must be an incident.io event type name")
    if not isinstance(resource, dict):
        raise bad_request("resource must be an object")
    try:
        sent = dispatcher_of(request).publish(event_type, resource)
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse({"deliveries": [d.as_dict() for d in sent]}, status_code=202)


async def list_requests(request: Request) -> Response:
    return JSONResponse({"requests": state_of(request).requests})


async def clear_requests(request: Request) -> Response:
    state_of(request).requests.clear()
    return Response(status_code=204)


async def add_fault(request: Request) -> Response:
    try:
        fault = Fault.from_json(await read_json(request))
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    faults_of(request).add(fault)
    return JSONResponse({"faults": [f.as_dict() for f in faults_of(request).queued]}, 201)


async def list_faults(request: Request) -> Response:
    return JSONResponse({"faults": [f.as_dict() for f in faults_of(request).queued]})


async def clear_faults(request: Request) -> Response:
    faults_of(request).clear()
    return Response(status_code=204)


MAX_LEAD_SECONDS = 30.0


def _timing(request: Request) -> Response:
    return JSONResponse({"webhook_lead_seconds": state_of(request).webhook_lead_seconds})


async def get_timing(request: Request) -> Response:
    return _timing(request)


async def set_timing(request: Request) -> Response:
    """``{"webhook_lead_seconds": S}``: create calls send their incident_created webhook,
    then answer only S seconds later (0 turns it off)."""
    lead = (await read_json(request)).get("webhook_lead_seconds")
    if isinstance(lead, bool) or not isinstance(lead, int | float) or not (
            0 <= lead <= MAX_LEAD_SECONDS):
        raise bad_request(f"webhook_lead_seconds must be a number from 0 to {MAX_LEAD_SECONDS:g}")
    state_of(request).webhook_lead_seconds = float(lead)
    return _timing(request)


async def reset(request: Request) -> Response:
    """Back to a fresh start: in-flight deliveries stop, endpoints return to the initial set."""
    await dispatcher_of(request).cancel_all()
    state = state_of(request)
    state.clear()
    state.webhook_lead_seconds = 0.0
    state.endpoints = dict(request.app.state.initial_endpoints)
    faults_of(request).clear()
    return Response(status_code=204)


async def add_endpoint(request: Request) -> Response:
    body = await read_json(request)
    try:
        endpoint = endpoints.register(
            state_of(request), body.get("url"), body.get("secret"), body.get("event_types", [])
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse(endpoint.public(), status_code=201)


async def list_endpoints(request: Request) -> Response:
    found = [e.public() for e in state_of(request).endpoints.values()]
    return JSONResponse({"webhook_endpoints": found})


async def remove_endpoint(request: Request) -> Response:
    if state_of(request).endpoints.pop(request.path_params["id"], None) is None:
        raise not_found("No webhook endpoint with that id")
    return Response(status_code=204)


async def list_deliveries(request: Request) -> Response:
    return JSONResponse({"deliveries": [d.as_dict() for d in state_of(request).deliveries]})


async def drain_deliveries(request: Request) -> Response:
    """Wait (up to ?timeout= seconds, default 10) until no delivery is in flight."""
    try:
        timeout = float(request.query_params.get("timeout", "10"))
    except ValueError as exc:
        raise bad_request("timeout must be a number of seconds") from exc
    settled = await dispatcher_of(request).drain(timeout)
    found = [d.as_dict() for d in state_of(request).deliveries]
    return JSONResponse({"settled": settled, "deliveries": found})


async def replay_delivery(request: Request) -> Response:
    wanted = request.path_params["id"]
    delivery = next((d for d in state_of(request).deliveries if d.id == wanted), None)
    if delivery is None:
        raise not_found("No delivery with that id")
    try:
        dispatcher_of(request).replay(delivery)
    except LookupError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse(delivery.as_dict(), status_code=202)


ROUTES = [
    Route("/_emulator/incidents", open_incident_as_person, methods=["POST"]),
    Route("/_emulator/events", publish_event, methods=["POST"]),
    Route("/_emulator/requests", list_requests, methods=["GET"]),
    Route("/_emulator/requests", clear_requests, methods=["DELETE"]),
    Route("/_emulator/faults", add_fault, methods=["POST"]),
    Route("/_emulator/faults", list_faults, methods=["GET"]),
    Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/timing", get_timing, methods=["GET"]),
    Route("/_emulator/timing", set_timing, methods=["POST"]),
    Route("/_emulator/webhook-endpoints", add_endpoint, methods=["POST"]),
    Route("/_emulator/webhook-endpoints", list_endpoints, methods=["GET"]),
    Route("/_emulator/webhook-endpoints/{id}", remove_endpoint, methods=["DELETE"]),
    Route("/_emulator/deliveries", list_deliveries, methods=["GET"]),
    Route("/_emulator/deliveries/drain", drain_deliveries, methods=["POST"]),
    Route("/_emulator/deliveries/{id}/replay", replay_delivery, methods=["POST"]),
]
