"""Alerts: HTTP alert events (one alert per source and deduplication key), show and
resolve, with the ``alert_created_v1`` / ``alert_resolved_v1`` webhooks.

Alert events authenticate with the alert source's own token (a bearer token or the
``token`` query parameter), not with an API key, as incident.io documents.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.emulator.api import dispatcher_of, read_json, state_of
from incidentflow.emulator.auth import bearer_token, requires
from incidentflow.emulator.ids import new_ulid
from incidentflow.emulator.payloads import choice, optional_object, optional_text, required_text
from incidentflow.emulator.problems import (
    missing_credentials,
    not_found,
    rejected_credentials,
)
from incidentflow.emulator.state import EmulatorState
from incidentflow.emulator.webhooks import WebhookDispatcher

STATUSES = ("firing", "resolved")


def _source(state: EmulatorState, request: Request) -> dict[str, Any]:
    source_id = request.path_params["alert_source_config_id"]
    source = next((s for s in state.alert_sources if s["id"] == source_id), None)
    if source is None:
        raise not_found(f"No alert source found with id {source_id!r}")
    token = bearer_token(request) or request.query_params.get("token")
    if not token:
        raise missing_credentials()
    if not hmac.compare_digest(token.encode(), str(source.get("secret_token")).encode()):
        raise rejected_credentials()
    return source


async def create_alert_event(request: Request) -> Response:
    state = state_of(request)
    source = _source(state, request)
    payload = await read_json(request)
    event = {
        "title": required_text(payload, "title"),
        "status": choice(payload, "status", STATUSES),
        "description": optional_text(payload, "description"),
        "source_url": optional_text(payload, "source_url"),
        "metadata": optional_object(payload, "metadata"),
        "deduplication_key": optional_text(payload, "deduplication_key") or new_ulid(),
    }
    apply_event(state, dispatcher_of(request), source["id"], event)
    return JSONResponse({"deduplication_key": event["deduplication_key"],
                         "message": "Event accepted for processing", "status": "success"},
                        status_code=202)


def apply_event(state: EmulatorState, dispatcher: WebhookDispatcher, source_id: str,
                event: dict[str, Any]) -> None:
    """Firing opens an alert (or refreshes the open one with that key); resolved
    resolves the open one (or does nothing)."""
    key = event["deduplication_key"]
    alert = next((a for a in state.alerts if a["alert_source_id"] == source_id
                  and a["deduplication_key"] == key and a["status"] == "firing"), None)
    now = state.now()
    if event["status"] == "resolved":
        if alert is not None:
            _resolve(state, dispatcher, alert)
        return
    fields = {k: event[k] for k in ("title", "description", "source_url") if event[k]}
    if alert is not None:
        alert.update(fields, updated_at=now)
        return
    alert = {"id": new_ulid(), "alert_source_id": source_id, "deduplication_key": key,
             "status": "firing", "attributes": [], "alert_group_ids": [],
             "created_at": now, "updated_at": now, **fields}
    state.alerts.append(alert)
    dispatcher.publish("public_alert.alert_created_v1", alert)


def _resolve(state: EmulatorState, dispatcher: WebhookDispatcher, alert: dict) -> None:
    now = state.now()
    alert.update(status="resolved", resolved_at=now, updated_at=now)
    dispatcher.publish("public_alert.alert_resolved_v1", alert)


def _find(state: EmulatorState, alert_id: str) -> dict[str, Any]:
    for alert in state.alerts:
        if alert["id"] == alert_id:
            return alert
    raise not_found(f"No alert found with id {alert_id!r}")


@requires("alerts.view")
async def show_alert(request: Request) -> Response:
    return JSONResponse({"alert": _find(state_of(request), request.path_params["id"])})


@requires("alerts.resolve")
async def resolve_alert(request: Request) -> Response:
    state = state_of(request)
    alert = _find(state, request.path_params["id"])
    if alert["status"] != "resolved":
        _resolve(state, dispatcher_of(request), alert)
    return JSONResponse({"alert": alert})


ROUTES = [
    Route("/v2/alert_events/http/{alert_source_config_id}", create_alert_event,
          methods=["POST"]),
    Route("/v2/alerts/{id}", show_alert, methods=["GET"]),
    Route("/v2/alerts/{id}/actions/resolve", resolve_alert, methods=["POST"]),
]
