"""On Incident → filter → Create Incident, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flow_support import CREATED, MAJOR, UPDATED, Flow, canvas_yaml, new_secret

EXAMPLES = Path(__file__).parents[1] / "data" / "incidentio-webhook-examples"


def example(event_type: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / f"{event_type}.json").read_bytes()))


def major_incident(name: str = "Checkout is down") -> dict[str, Any]:
    """The real created_v2 example's incident, made Major so the filter lets it pass."""
    incident = example(CREATED)[CREATED]
    return {**incident, "name": name,
            "severity": {**incident["severity"], "id": MAJOR, "name": "Major"}}


def real_form(incident: dict[str, Any], event_type: str = CREATED) -> bytes:
    return json.dumps({"event_type": event_type, event_type: incident}).encode()


async def ready(flow: Flow, text: str | None = None) -> str:
    """Integration connected, canvas applied, secret set; returns the secret."""
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(text or canvas_yaml())
    assert response.status_code == 200, response.text
    secret = new_secret()
    await flow.set_secret(secret)
    return secret


async def test_a_signed_delivery_opens_the_follow_up_incident(flow: Flow) -> None:
    secret = await ready(flow)
    incident = major_incident()
    response = await flow.deliver(secret, real_form(incident))
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    assert await flow.work() == 2

    run = await flow.only_run()
    assert run.state == "succeeded"
    assert run.root.type == "incident.incident.created"
    assert run.root.data == {"event_type": CREATED, "incident": incident}
    action = next(e for e in run.executions if e.node == "Open follow-up")
    [emitted] = action.emitted
    [created] = flow.incidents()
    assert emitted["event"]["type"] == "incident.incident"
    assert emitted["event"]["data"] == created  # the incident whole, every field

    [call] = await flow.create_calls()
    assert call["body"] == {"idempotency_key": action.idempotency_key,
                            "name": "[follow-up] Checkout is down",
                            "severity_id": MAJOR, "visibility": "private"}
    assert call["headers"]["authorization"] == "Bearer flow-emulator-key"
    assert (await flow.live())["deliveries"]["accepted"] == 1


async def test_a_redelivered_webhook_id_is_200_and_starts_one_run(flow: Flow) -> None:
    secret = await ready(flow)
    body = real_form(major_incident())
    first = await flow.deliver(secret, body, msg_id="msg_same")
    again = await flow.deliver(secret, body, msg_id="msg_same")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"status": "duplicate"}
    assert len(await flow.runs()) == 1 and flow.count("events") == 1


async def test_an_event_type_not_selected_is_200_without_a_run(flow: Flow) -> None:
    secret = await ready(flow)  # the canvas selects created only
    response = await flow.deliver(secret, real_form(major_incident(), UPDATED))
    assert response.status_code == 200
    assert await flow.runs() == [] and flow.count("events") == 0
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "ignored"


@pytest.mark.parametrize("form", ["real", "data-wrapped", "incident-keyed"])
async def test_the_three_body_forms_give_the_same_event(flow: Flow, form: str) -> None:
    secret = await ready(flow)
    incident = major_incident()
    body = {
        "real": {"event_type": CREATED, CREATED: incident},
        "data-wrapped": {"data": {"event_type": CREATED, "incident": incident}},
        "incident-keyed": {"event_type": CREATED, "incident": incident},
    }[form]
    assert (await flow.deliver(secret, json.dumps(body).encode())).status_code == 200
    [run] = await flow.runs()
    assert run.root.data == {"event_type": CREATED, "incident": incident}


@pytest.mark.parametrize("event_type, emitted, runs", [
    (CREATED, "incident.incident.created", 1),
    (UPDATED, "incident.incident.updated", 1),
    ("public_incident.incident_status_updated_v2", None, 0),
    ("private_incident.incident_created_v2", None, 0),
    ("private_incident.incident_updated_v2", None, 0),
])
async def test_the_real_example_deliveries(flow: Flow, event_type: str, emitted: str | None,
                                           runs: int) -> None:
    text = canvas_yaml().replace(f"events: [{CREATED}]", f"events: [{CREATED}, {UPDATED}]")
    secret = await ready(flow, text)
    raw = (EXAMPLES / f"{event_type}.json").read_bytes()
    response = await flow.deliver(secret, raw)
    assert response.status_code == 200  # acknowledged either way: incident.io stops retrying
    found = await flow.runs()
    assert len(found) == runs
    if emitted:
        run = await flow.only_run()
        assert run.root.type == emitted
        assert run.root.data == {"event_type": event_type,
                                 "incident": json.loads(raw)[event_type]}


async def test_editing_the_events_keeps_the_url_and_the_secret(flow: Flow) -> None:
    secret = await ready(flow)
    before = await flow.live()
    both = canvas_yaml().replace(f"events: [{CREATED}]", f"events: [{CREATED}, {UPDATED}]")
    saved = await flow.apply(both)
    assert saved.json()["version"] == 2
    after = await flow.live()
    assert after["webhookUrl"] == before["webhookUrl"]
    assert after["signingSecretConfigured"] is True
    # The old secret still signs, and the newly selected event now starts a run.
    response = await flow.deliver(secret, real_form(major_incident(), UPDATED))
    assert response.json() == {"status": "accepted"}


async def test_an_empty_resolved_name_fails_before_any_call(flow: Flow) -> None:
    secret = await ready(flow, canvas_yaml(name="{{ root.data.incident.summary or '' }}"))
    incident = {**major_incident(), "summary": None}
    await flow.deliver(secret, real_form(incident))
    await flow.work()
    run = await flow.only_run()
    action = next(e for e in run.executions if e.node == "Open follow-up")
    assert run.state == "failed" and action.state == "failed"
    assert action.attempts == 1
    assert "name resolved to an empty string" in (action.error or "")
    assert await flow.create_calls() == []
