"""The organisation's settings as incident.io lists them: incident statuses and types,
custom fields and their options, escalation paths, users and alert sources."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.emulator import catalog
from incidentflow.emulator.api import state_of
from incidentflow.emulator.auth import requires
from incidentflow.emulator.problems import validation_error


def paged(items: list[dict[str, Any]], query: QueryParams, max_size: int) -> tuple[list, dict]:
    """One page after the ``after`` cursor, and its ``pagination_meta``."""
    raw = query.get("page_size", "25")
    if not raw.isdigit() or not 1 <= int(raw) <= max_size:
        raise validation_error("invalid_value",
                               f"page_size must be a whole number from 1 to {max_size}",
                               "page_size")
    size, after = int(raw), query.get("after")
    start = 0
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise validation_error("invalid_value", f"No record with id {after!r}", "after")
        start = ids.index(after) + 1
    page = items[start:start + size]
    meta: dict[str, Any] = {"page_size": size}
    if start + size < len(items):
        meta["after"] = page[-1]["id"]
    return page, meta


@requires("incident_statuses.view")
async def list_incident_statuses(request: Request) -> Response:
    return JSONResponse({"incident_statuses": state_of(request).statuses})


@requires("incident_types.view")
async def list_incident_types(request: Request) -> Response:
    return JSONResponse({"incident_types": state_of(request).incident_types})


@requires("custom_fields.view")
async def list_custom_fields(request: Request) -> Response:
    return JSONResponse({"custom_fields": state_of(request).custom_fields})


@requires("custom_fields.view")
async def list_custom_field_options(request: Request) -> Response:
    field_id = request.query_params.get("custom_field_id")
    if not field_id:
        raise validation_error("is_required", "custom_field_id is required", "custom_field_id")
    options = [o for o in state_of(request).custom_field_options
               if o["custom_field_id"] == field_id]
    page, meta = paged(options, request.query_params, 250)
    return JSONResponse({"custom_field_options": page, "pagination_meta": meta})


@requires("escalation_paths.view")
async def list_escalation_paths(request: Request) -> Response:
    page, meta = paged(state_of(request).escalation_paths, request.query_params, 25)
    return JSONResponse({"escalation_paths": page, "pagination_meta": meta})


@requires("users.view")
async def list_users(request: Request) -> Response:
    users = state_of(request).users
    email = request.query_params.get("email")
    if email:
        users = [u for u in users if u.get("email") == email]
    page, meta = paged(users, request.query_params, 10000)
    return JSONResponse({"users": [catalog.user_with_roles(u) for u in page],
                         "pagination_meta": meta})


@requires("alert_sources.view")
async def list_alert_sources(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    sources = [{**source, "alert_events_url": f"{base}/v2/alert_events/http/{source['id']}"}
               for source in state_of(request).alert_sources]
    return JSONResponse({"alert_sources": sources})


ROUTES = [
    Route("/v1/incident_statuses", list_incident_statuses, methods=["GET"]),
    Route("/v1/incident_types", list_incident_types, methods=["GET"]),
    Route("/v2/custom_fields", list_custom_fields, methods=["GET"]),
    Route("/v1/custom_field_options", list_custom_field_options, methods=["GET"]),
    Route("/v2/escalation_paths", list_escalation_paths, methods=["GET"]),
    Route("/v2/users", list_users, methods=["GET"]),
    Route("/v2/alert_sources", list_alert_sources, methods=["GET"]),
]
