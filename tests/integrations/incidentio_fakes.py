"""A scripted incident.io behind httpx.MockTransport, and helpers for its tests.

(A uniquely named module, not conftest.py, so tests can import it unambiguously.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from incidentflow.components.base import ExecutionContext
from incidentflow.events import Event

DATA = Path(__file__).parents[1] / "data"
API_EXAMPLES = json.loads((DATA / "incidentio-api-examples.json").read_text())
NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
API_KEY = "inc_test_key"
SEVERITIES = API_EXAMPLES["list_severities_200"]
CREATED = API_EXAMPLES["create_incident_200"]


class FakeIncidentIO:
    """Answers each request with the next scripted response for its path.

    A script entry is an httpx.Response, an exception to raise, or a callable taking the
    request. The last entry repeats once the script runs out.
    """

    def __init__(self) -> None:
        self.scripts: dict[str, list[Any]] = {
            "/v1/severities": [httpx.Response(200, json=SEVERITIES)],
            "/v2/incidents": [httpx.Response(200, json=CREATED)],
        }
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def script(self, path: str, *entries: Any) -> None:
        self.scripts[path] = list(entries)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        script = self.scripts[request.url.path]
        entry = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(entry, Exception):
            raise entry
        return entry(request) if callable(entry) else entry

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def error_body(status: int, kind: str, *errors: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "status": status, "request_id": "req-123", "errors": list(errors)}


def make_context(api: FakeIncidentIO, config: dict[str, Any], **overrides: Any):
    values: dict[str, Any] = {
        "canvas": "demo",
        "node": "Open incident",
        "run_id": "run-1",
        "execution_id": "exec-1",
        "idempotency_key": "if-exec-1",
        "attempt": 1,
        "input": Event("start.manual", {}, "2026-01-19T11:59:00Z"),
        "config": config,
        "http": api.client(),
        "now": NOW,
        "integration": {"apiKey": API_KEY, "baseUrl": "https://incident.example"},
    }
    values.update(overrides)
    return ExecutionContext(**values)
