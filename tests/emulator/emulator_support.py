"""Helpers shared by the emulator tests (imported as ``emulator_support``)."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from starlette.testclient import TestClient

API_KEY = "test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
MINOR = "01FCNDV6P870EA6S7TK1DSYDG0"
MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"
FAST_RETRIES = (0, 0.01, 0.02)
OPENAPI = json.loads(
    (Path(__file__).parents[1] / "data" / "openapi" / "incidentio-subset.json").read_text()
)
# incident.io's documented error body (API reference introduction, "Errors").
ERROR_SCHEMA = {
    "type": "object",
    "required": ["type", "status", "request_id", "errors"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "request_id": {"type": "string", "format": "uuid"},
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "source": {
                        "type": "object",
                        "required": ["field"],
                        "properties": {"field": {"type": "string"}},
                    },
                },
            },
        },
    },
}

_formats = jsonschema.FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if isinstance(value, str):
        if not value.endswith("Z"):
            raise ValueError("timestamps are UTC with a Z")
        datetime.fromisoformat(value.removesuffix("Z") + "+00:00")
    return True


_registry = Registry().with_resource("urn:incidentio", Resource.opaque(OPENAPI))


def assert_schema(instance: Any, schema_name: str) -> None:
    """Validate against a component schema of incident.io's OpenAPI document."""
    ref = {"$ref": f"urn:incidentio#/components/schemas/{schema_name}"}
    validator = jsonschema.Draft4Validator(ref, registry=_registry, format_checker=_formats)
    validator.validate(instance)


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA, format_checker=_formats)
    assert body["status"] == status
    assert body["errors"][0]["code"] == code
    if field is not None:
        assert body["errors"][0]["source"] == {"field": field}
    return body


def new_incident(client: TestClient, key: str = "key-1", **fields: Any) -> dict[str, Any]:
    payload = {
        "idempotency_key": key,
        "visibility": "public",
        "name": "Database is sad",
        "severity_id": MINOR,
        **fields,
    }
    response = client.post("/v2/incidents", json=payload, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()["incident"]


@dataclass
class Receiver:
    """A webhook receiver answering with scripted statuses (then 200)."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    received: queue.Queue = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def take(self) -> tuple[dict[str, str], bytes]:
        """The next delivery received (headers, raw body); fails if none comes."""
        return self.received.get(timeout=5)
