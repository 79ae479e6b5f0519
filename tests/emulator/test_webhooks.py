"""Signed webhook delivery to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from emulator_support import AUTH, FAST_RETRIES, MAJOR, Receiver, assert_schema, new_incident
from standardwebhooks import Webhook
from starlette.testclient import TestClient

from incidentflow.emulator import create_emulator_app
from incidentflow.emulator.server import free_port
from incidentflow.emulator.signing import sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def subscribe(client: TestClient, url: str, **extra) -> dict:
    response = client.post(
        "/_emulator/webhook-endpoints", json={"url": url, "secret": SECRET, **extra}
    )
    assert response.status_code == 201
    return response.json()


def verified(headers: dict[str, str], body: bytes) -> dict:
    """Check the signature with the Standard Webhooks reference library."""
    return Webhook(SECRET).verify(body, headers)


def drain(client: TestClient) -> list[dict]:
    body = client.post("/_emulator/deliveries/drain?timeout=5").json()
    assert body["settled"]
    return body["deliveries"]


def test_signing_matches_the_standard_webhooks_vector():
    signature = sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_api_created_incident_is_delivered_signed(client: TestClient, receiver: Receiver):
    subscribe(client, receiver.url)
    incident = new_incident(client)
    headers, body = receiver.take()
    payload = verified(headers, body)
    event_type = "public_incident.incident_created_v2"
    assert payload["event_type"] == event_type
    assert payload[event_type] == incident
    assert_schema(payload, "WebhooksPublicIncidentIncidentCreatedV2ResponseBody")
    assert headers["webhook-id"].startswith("msg_")
    assert headers["content-type"] == "application/json"


def test_incident_opened_in_the_ui_is_delivered(client: TestClient, receiver: Receiver):
    subscribe(client, receiver.url)
    incident = client.post("/_emulator/incidents", json={"name": "From the UI"}).json()
    payload = verified(*receiver.take())
    assert payload["public_incident.incident_created_v2"]["id"] == incident["incident"]["id"]
    assert payload["public_incident.incident_created_v2"]["creator"]["user"]


def test_edit_sends_updated_and_a_no_op_edit_sends_nothing(
    client: TestClient, receiver: Receiver
):
    incident = new_incident(client)
    subscribe(client, receiver.url)
    url = f"/v2/incidents/{incident['id']}/actions/edit"
    edit = {"incident": {"severity_id": MAJOR}, "notify_incident_channel": True}
    client.post(url, json=edit, headers=AUTH)
    client.post(url, json=edit, headers=AUTH)  # same value again: nothing changes
    payload = verified(*receiver.take())
    assert_schema(payload, "WebhooksPublicIncidentIncidentUpdatedV2ResponseBody")
    assert payload["public_incident.incident_updated_v2"]["severity"]["id"] == MAJOR
    assert [d["event_type"] for d in drain(client)] == ["public_incident.incident_updated_v2"]


def test_private_incident_events_carry_only_the_id(client: TestClient, receiver: Receiver):
    subscribe(client, receiver.url)
    incident = new_incident(client, visibility="private")
    payload = verified(*receiver.take())
    assert_schema(payload, "WebhooksPrivateIncidentIncidentCreatedV2ResponseBody")
    assert payload == {
        "event_type": "private_incident.incident_created_v2",
        "private_incident.incident_created_v2": {"id": incident["id"]},
    }


def test_retry_after_500_keeps_the_webhook_id(client: TestClient, receiver: Receiver):
    receiver.script = [500, 503]
    subscribe(client, receiver.url)
    new_incident(client)
    attempts = [receiver.take() for _ in range(3)]
    ids = {headers["webhook-id"] for headers, _ in attempts}
    assert len(ids) == 1
    for headers, body in attempts:
        verified(headers, body)
    [delivery] = drain(client)
    assert delivery["id"] in ids and delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]


def test_unreachable_endpoint_fails_after_the_schedule(client: TestClient):
    subscribe(client, f"http://127.0.0.1:{free_port()}/gone")
    new_incident(client)
    [delivery] = drain(client)
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == len(FAST_RETRIES)
    assert all(a["error"] and a["status_code"] is None for a in delivery["attempts"])


def test_endpoint_only_gets_the_event_types_it_subscribed_to(
    client: TestClient, receiver: Receiver
):
    subscribe(client, receiver.url, event_types=["public_incident.incident_updated_v2"])
    new_incident(client)
    assert drain(client) == []


def test_every_endpoint_gets_its_own_delivery(client: TestClient, receiver: Receiver):
    subscribe(client, receiver.url)
    subscribe(client, receiver.url)
    new_incident(client)
    first, second = receiver.take(), receiver.take()
    assert first[0]["webhook-id"] != second[0]["webhook-id"]
    assert json.loads(first[1]) == json.loads(second[1])


def test_replay_resends_with_the_same_webhook_id(client: TestClient, receiver: Receiver):
    subscribe(client, receiver.url)
    new_incident(client)
    original_headers, _ = receiver.take()
    [delivery] = drain(client)
    assert client.post(f"/_emulator/deliveries/{delivery['id']}/replay").status_code == 202
    replay_headers, body = receiver.take()
    assert replay_headers["webhook-id"] == original_headers["webhook-id"]
    verified(replay_headers, body)
    assert client.post("/_emulator/deliveries/msg_nope/replay").status_code == 404


def test_endpoints_given_at_start_receive_deliveries(receiver: Receiver):
    app = create_emulator_app(
        api_keys="test-key", webhook_endpoints=[(receiver.url, SECRET)], retry_schedule=(0,)
    )
    with TestClient(app) as client:
        new_incident(client)
        verified(*receiver.take())


@pytest.mark.parametrize("schedule", [()])
def test_empty_retry_schedule_is_rejected(schedule):
    with pytest.raises(ValueError):
        create_emulator_app(retry_schedule=schedule)
