"""The seed's example events are what the components show, and what they really emit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from helpers import signed_headers

from incidentflow.components.base import WebhookRequest
from incidentflow.integrations.incidentio import examples
from incidentflow.integrations.incidentio.action import CreateIncident
from incidentflow.integrations.incidentio.trigger import OnIncident
from incidentflow.web.presenters import component_view

DATA = Path(__file__).parents[1] / "data"
REAL_CREATED = DATA / "incidentio-webhook-examples" / "public_incident.incident_created_v2.json"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_the_components_show_the_bundled_examples() -> None:
    # What the API (and so the editor's expression previews) serves for each component.
    trigger = component_view(OnIncident())["exampleOutput"]
    action = component_view(CreateIncident())["exampleOutput"]
    assert trigger["type"] == "incident.incident.created"
    assert isinstance(trigger["data"]["incident"]["name"], str)
    assert trigger["data"]["incident"]["name"]
    assert action["type"] == "incident.incident"
    assert action["data"]["id"] and action["data"]["name"]


def test_the_examples_follow_the_event_contract() -> None:
    trigger, action = examples.load("on-incident"), examples.load("create-incident")
    assert set(trigger) == set(action) == {"type", "timestamp", "data"}
    assert trigger["type"] == "incident.incident.created"
    assert set(trigger["data"]) == {"event_type", "incident"}
    assert trigger["data"]["event_type"] == "public_incident.incident_created_v2"
    assert action["type"] == "incident.incident"
    for key in ("id", "name", "reference", "permalink", "severity", "visibility",
                "created_at", "updated_at"):
        assert key in action["data"]


def test_the_real_created_delivery_emits_the_example_shape() -> None:
    raw = REAL_CREATED.read_bytes()
    now = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
    timestamp = int(now.timestamp())
    headers = signed_headers(SECRET, raw, "msg_1", timestamp)
    verdict = OnIncident().receive(WebhookRequest(headers, raw), [SECRET], {}, now)
    [event] = verdict.events
    emitted = event.as_dict()
    shown = examples.load("on-incident")
    assert emitted["type"] == shown["type"]
    assert emitted["timestamp"] == shown["timestamp"] == "2026-01-19T12:00:00Z"
    assert set(emitted["data"]) == set(shown["data"])
    assert emitted["data"]["event_type"] == shown["data"]["event_type"]
    incident = emitted["data"]["incident"]
    assert incident == json.loads(raw)["public_incident.incident_created_v2"]  # kept whole
    assert set(shown["data"]["incident"]) <= set(incident)
    for key, value in shown["data"]["incident"].items():
        assert type(incident[key]) is type(value), key
