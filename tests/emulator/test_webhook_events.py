"""Every event type through the emulator's dispatcher: status updates carry the previous
and new status, private deliveries only the id, and ``POST /_emulator/events`` sends
any type (signed, to a real receiver on 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulator_support import AUTH, Receiver, new_incident
from standardwebhooks import Webhook
from starlette.testclient import TestClient

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EXAMPLES = Path(__file__).parents[1] / "data" / "incidentio-webhook-examples"
STATUS_UPDATED = "public_incident.incident_status_updated_v2"
MONITORING = "01FCNDV6P870EA6S7TK1DSYD5M"


def subscribe(client: TestClient, url: str) -> None:
    response = client.post("/_emulator/webhook-endpoints", json={"url": url, "secret": SECRET})
    assert response.status_code == 201


def received(receiver: Receiver) -> dict:
    headers, body = receiver.take()
    return Webhook(SECRET).verify(body, headers)


def test_a_status_change_sends_updated_and_the_status_update_with_both_statuses(
        client: TestClient, receiver: Receiver):
    incident = new_incident(client)
    subscribe(client, receiver.url)
    client.post(f"/v2/incidents/{incident['id']}/actions/edit", headers=AUTH,
                json={"incident": {"incident_status_id": MONITORING},
                      "notify_incident_channel": False})
    # Two deliveries in flight at once (as Svix sends them): either may arrive first.
    both = {body["event_type"]: body for body in (received(receiver), received(receiver))}
    assert set(both) == {"public_incident.incident_updated_v2", STATUS_UPDATED}
    status = both[STATUS_UPDATED]
    sent = status[STATUS_UPDATED]
    example = json.loads((EXAMPLES / f"{STATUS_UPDATED}.json").read_text())[STATUS_UPDATED]
    assert set(sent) == set(example)  # incident.io's shape
    assert sent["previous_status"]["id"] == incident["incident_status"]["id"]
    assert sent["new_status"]["id"] == MONITORING == sent["incident"]["incident_status"]["id"]


def test_an_edit_that_keeps_the_status_sends_no_status_update(
        client: TestClient, receiver: Receiver):
    incident = new_incident(client)
    subscribe(client, receiver.url)
    client.post(f"/v2/incidents/{incident['id']}/actions/edit", headers=AUTH,
                json={"incident": {"name": "renamed"}, "notify_incident_channel": False})
    body = client.post("/_emulator/deliveries/drain?timeout=5").json()
    assert [d["event_type"] for d in body["deliveries"]] == [
        "public_incident.incident_updated_v2"]


@pytest.mark.parametrize("event_type, resource, expected", [
    ("public_alert.alert_created_v1", {"id": "01AL", "title": "CPU"},
     {"id": "01AL", "title": "CPU"}),
    ("private_alert.alert_resolved_v1", {"id": "01AL", "title": "CPU"}, {"id": "01AL"}),
    ("private_escalation.escalation_status_updated_v1",
     {"escalation": {"id": "01ES"}, "previous_status": "pending", "new_status": "acked"},
     {"id": "01ES"}),
    ("private_incident.follow_up_created_v2", {"id": "01FU", "title": "x"}, {"id": "01FU"}),
])
def test_any_event_type_can_be_published_in_incident_io_s_delivery_shape(
        client: TestClient, receiver: Receiver, event_type, resource, expected):
    subscribe(client, receiver.url)
    response = client.post("/_emulator/events",
                           json={"event_type": event_type, "resource": resource})
    assert response.status_code == 202
    assert received(receiver) == {"event_type": event_type, event_type: expected}


@pytest.mark.parametrize("body", [
    {"resource": {"id": "x"}},
    {"event_type": "public_alert.alert_created_v1", "resource": []},
    {"event_type": "private_alert.alert_created_v1", "resource": {"title": "no id"}},
])
def test_publishing_refuses_what_cannot_be_sent(client: TestClient, body):
    assert client.post("/_emulator/events", json=body).status_code == 400
