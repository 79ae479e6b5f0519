"""incident.io played by the emulator (in process, through httpx's ASGI transport) for
the action tests: contexts for executing actions and a look at what it received.

(A uniquely named module, not conftest.py, so tests can import it unambiguously.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from starlette.applications import Starlette

from incidentflow.components.base import ExecutionContext
from incidentflow.emulator import EmulatorState, create_emulator_app
from incidentflow.emulator.auth import ALL_SCOPES
from incidentflow.emulator.faults import Fault, FaultPlan
from incidentflow.events import Event

BASE_URL = "http://incidentio.test"
FULL_KEY = "full-key"
NARROW_KEY = "view-only-key"  # can read, cannot change anything
NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)


@dataclass
class Emulated:
    app: Starlette
    state: EmulatorState
    faults: FaultPlan
    sleeps: list[float] = field(default_factory=list)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def fail_next(self, status: int, count: int = 1, when: str = "before",
                  retry_after: int | None = None) -> None:
        self.faults.add(Fault(status=status, count=count, when=when, retry_after=retry_after))

    def calls(self, method: str, path_start: str) -> list[dict[str, Any]]:
        return [r for r in self.state.requests
                if r["method"] == method and r["path"].startswith(path_start)]

    def context(self, http: httpx.AsyncClient, config: dict[str, Any],
                key: str = FULL_KEY, **overrides: Any) -> ExecutionContext:
        values: dict[str, Any] = {
            "canvas": "demo", "node": "Act", "run_id": "run-1", "execution_id": "exec-1",
            "idempotency_key": "if-exec-1", "attempt": 1,
            "input": Event("start.manual", {}, "2026-01-19T11:59:00Z"),
            "config": config, "http": http, "now": NOW,
            "integration": {"apiKey": key, "baseUrl": BASE_URL},
        }
        values.update(overrides)
        return ExecutionContext(**values)


def emulated() -> Emulated:
    state = EmulatorState()
    faults = FaultPlan()
    keys = {FULL_KEY: ALL_SCOPES,
            NARROW_KEY: {s for s in ALL_SCOPES if s.endswith(".view")}}
    app = create_emulator_app(state, api_keys=keys, faults=faults)
    return Emulated(app, state, faults)


OPENAPI = json.loads(
    (Path(__file__).parents[1] / "data" / "openapi" / "incidentio-subset.json").read_text())
_REGISTRY = Registry().with_resource("urn:incidentio", Resource.opaque(OPENAPI))


def assert_payload(body: Any, schema_name: str) -> None:
    """``body`` is valid against incident.io's payload schema and names no property the
    schema does not have (the document allows extra ones; incident.io ignores them, so
    sending one would be a silent mistake)."""
    ref = {"$ref": f"urn:incidentio#/components/schemas/{schema_name}"}
    jsonschema.Draft4Validator(ref, registry=_REGISTRY).validate(body)
    _only_known(body, OPENAPI["components"]["schemas"][schema_name], schema_name)


def _only_known(body: Any, schema: dict[str, Any], where: str) -> None:
    if not isinstance(body, dict) or "properties" not in schema:
        return
    unknown = set(body) - set(schema["properties"])
    assert not unknown, f"{where}: not in incident.io's document: {sorted(unknown)}"
    for key, value in body.items():
        ref = schema["properties"][key].get("$ref", "")
        if ref:
            name = ref.rsplit("/", 1)[1]
            _only_known(value, OPENAPI["components"]["schemas"][name], f"{where}.{key}")
