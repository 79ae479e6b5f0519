"""A tiny incident.io stand-in that timestamps when Create Incident requests arrive.

Only what the figures need: ``GET /v1/severities`` (the integration's key check and
the severity picker), ``POST /v2/incidents`` (records ``time.monotonic()`` per incident
name — system-wide on Linux, so the bench process compares it with its own stamps) and
``GET /_bench/arrivals`` to read them back; for the alert storm,
``POST /v2/alert_events/http/{id}`` (counts the events per deduplication key, so a
doubled or missing alert shows) and ``GET /_bench/alert_events`` to read the counts.
"""

from __future__ import annotations

import json
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SEVERITY_ID = "01BENCHSEVERITY0000000000"
SEVERITY = {"id": SEVERITY_ID, "name": "Minor", "rank": 1, "description": "bench"}
ARRIVALS: dict[str, float] = {}
ALERT_EVENTS: dict[str, int] = {}  # deduplication key -> alert events received with it


async def severities(request: Request) -> Response:
    return JSONResponse({"severities": [SEVERITY]})


async def create_incident(request: Request) -> Response:
    arrived = time.monotonic()
    payload = json.loads(await request.body())
    name = str(payload.get("name", ""))
    ARRIVALS.setdefault(name, arrived)  # a retry keeps the first arrival
    incident = {
        "id": f"01BENCHINC{len(ARRIVALS):016d}",
        "name": name,
        "reference": f"INC-{len(ARRIVALS)}",
        "severity": SEVERITY,
        "visibility": payload.get("visibility", "public"),
        "summary": payload.get("summary"),
        "mode": "standard",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    return JSONResponse({"incident": incident})


async def arrivals(request: Request) -> Response:
    return JSONResponse(ARRIVALS)


async def alert_event(request: Request) -> Response:
    payload = json.loads(await request.body())
    key = str(payload.get("deduplication_key", ""))
    ALERT_EVENTS[key] = ALERT_EVENTS.get(key, 0) + 1
    # incident.io's answer (202 and this body), as the emulator gives it.
    return JSONResponse(
        {"deduplication_key": key, "message": "Event accepted for processing",
         "status": "success"},
        status_code=202,
    )


async def alert_events(request: Request) -> Response:
    return JSONResponse(ALERT_EVENTS)


async def ready(request: Request) -> Response:
    return Response("ok")


app = Starlette(
    routes=[
        Route("/v1/severities", severities),
        Route("/v2/incidents", create_incident, methods=["POST"]),
        Route("/_bench/arrivals", arrivals),
        Route("/v2/alert_events/http/{source_id}", alert_event, methods=["POST"]),
        Route("/_bench/alert_events", alert_events),
        Route("/", ready),
    ]
)
