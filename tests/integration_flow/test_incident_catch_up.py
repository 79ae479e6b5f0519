"""On Incident's catch-up poll, in process against the emulator, on SQLite and
PostgreSQL: a webhook lost while we were down becomes one run; a webhook and a poll of
the same change (in either order, or two workers polling at once) give one run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from flow_support import Flow, new_secret

from incidentflow.engine.catch_up import CatchUpPoller

CREATED = "public_incident.incident_created_v2"
UPDATED = "public_incident.incident_updated_v2"
CANVAS = f"""
name: mirror
nodes:
  - name: On Incident
    type: incident.onIncident
    integration: incident
    configuration:
      events: [{CREATED}, {UPDATED}]
      catchUp: {{enabled: true, everyMinutes: 2}}
  - name: Next
    type: noop
edges:
  - {{from: On Incident, to: Next}}
"""


def poller(flow: Flow) -> CatchUpPoller:
    return CatchUpPoller(flow.host.store, flow.host.box, flow.host.http, flow.clock)


async def ready(flow: Flow, text: str = CANVAS) -> str:
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(text)
    assert response.status_code == 200, response.text
    secret = new_secret()
    await flow.set_secret(secret)
    assert await poller(flow).tick() == 0  # switched on: polls from now on
    return secret


async def lost_incident(flow: Flow, **fields: Any) -> dict[str, Any]:
    """Opened in incident.io while no webhook reached us (no endpoint registered)."""
    response = await flow.incidentio.post("/_emulator/incidents",
                                          json={"name": "Lost one", **fields})
    return dict(response.json()["incident"])


def webhook(incident: dict[str, Any], event_type: str = CREATED) -> bytes:
    return json.dumps({"event_type": event_type, event_type: incident}).encode()


async def test_a_webhook_lost_while_down_becomes_one_run(flow: Flow) -> None:
    await ready(flow)
    incident = await lost_incident(flow)
    flow.clock.advance(minutes=1)
    assert await poller(flow).tick() == 0  # not due yet
    flow.clock.advance(minutes=2)
    assert await poller(flow).tick() == 1
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 0  # the same change never runs twice
    run = await flow.only_run()
    assert run.root.type == "incident.incident.created"
    assert run.root.data == {"event_type": CREATED, "incident": incident}
    await flow.work()
    assert (await flow.only_run()).state == "succeeded"
    shown = next(n for n in (await flow.host.canvas_views.canvas_view("mirror"))["nodes"]
                 if n["name"] == "On Incident")["catchUp"]
    assert shown["found"] == 0 and shown["lastPollAt"] and shown["error"] is None


async def test_an_update_after_the_poll_is_caught_up_as_updated(flow: Flow) -> None:
    await ready(flow)
    incident = await lost_incident(flow)
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 1
    await asyncio.sleep(0.002)  # the emulator's clock stamps updated_at
    edited = await flow.incidentio.post(
        f"/v2/incidents/{incident['id']}/actions/edit",
        json={"incident": {"name": "Renamed"}, "notify_incident_channel": False})
    assert edited.status_code == 200
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 1
    types = sorted(r.root.type for r in [await flow.host.canvases.get_run(s.id)
                                         for s in await flow.runs()])
    assert types == ["incident.incident.created", "incident.incident.updated"]


async def test_a_webhook_then_a_poll_of_the_same_change_is_one_run(flow: Flow) -> None:
    secret = await ready(flow)
    incident = await lost_incident(flow)
    assert (await flow.deliver(secret, webhook(incident))).json() == {"status": "accepted"}
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 0
    assert len(await flow.runs()) == 1


async def test_a_poll_then_a_late_webhook_of_the_same_change_is_one_run(flow: Flow) -> None:
    secret = await ready(flow)
    incident = await lost_incident(flow)
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 1
    response = await flow.deliver(secret, webhook(incident))
    assert response.status_code == 200  # acknowledged: incident.io stops retrying
    assert len(await flow.runs()) == 1
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "ignored" and "catch-up poll" in delivery.reason
    # A redelivery of the same webhook-id is a duplicate as usual, still no run.
    assert len(await flow.runs()) == 1


async def test_two_workers_polling_at_once_start_one_run(flow: Flow) -> None:
    await ready(flow)
    await lost_incident(flow)
    flow.clock.advance(minutes=3)
    started = await asyncio.gather(poller(flow).tick(), poller(flow).tick())
    assert sorted(started) == [0, 1]
    assert len(await flow.runs()) == 1


async def test_the_poll_applies_the_node_s_filters_and_event_selection(flow: Flow) -> None:
    await ready(flow, CANVAS.replace(f"[{CREATED}, {UPDATED}]", f"[{UPDATED}]"))
    await lost_incident(flow)  # a creation: not selected
    await lost_incident(flow, mode="test")  # test mode: filtered by default
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 0
    assert await flow.runs() == []


async def test_an_outage_is_shown_on_the_node_and_the_next_poll_catches_up(flow: Flow) -> None:
    await ready(flow)
    await lost_incident(flow)
    flow.clock.advance(minutes=3)
    flow.network.down = True
    assert await poller(flow).tick() == 0
    shown = next(n for n in (await flow.host.canvas_views.canvas_view("mirror"))["nodes"]
                 if n["name"] == "On Incident")["catchUp"]
    assert "unreachable" in shown["error"]
    flow.network.down = False
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 1


@pytest.mark.parametrize("catch_up, field", [
    ("{enabled: yes}", "catchUp.enabled"),
    ("{enabled: true, everyMinutes: 0}", "catchUp.everyMinutes"),
])
async def test_a_bad_catch_up_option_is_refused_naming_the_field(
        flow: Flow, catch_up: str, field: str) -> None:
    text = CANVAS.replace("{enabled: true, everyMinutes: 2}", catch_up)
    response = await flow.apply(text)
    assert response.status_code == 422
    assert field in json.dumps(response.json())


async def test_catch_up_without_an_integration_is_refused_naming_it(flow: Flow) -> None:
    response = await flow.apply(CANVAS.replace("    integration: incident\n", ""))
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["node"], problem["field"]) == ("On Incident", "integration")


async def test_two_event_types_of_one_change_both_run_and_the_poll_adds_none(
        flow: Flow) -> None:
    status_updated = "public_incident.incident_status_updated_v2"
    secret = await ready(flow, CANVAS.replace(f"[{CREATED}, {UPDATED}]",
                                              f"[{CREATED}, {UPDATED}, {status_updated}]"))
    incident = await lost_incident(flow)
    moved = {"incident": incident, "previous_status": incident["incident_status"],
             "new_status": incident["incident_status"], "message": None}
    body = json.dumps({"event_type": status_updated, status_updated: moved}).encode()
    assert (await flow.deliver(secret, webhook(incident, UPDATED))).json()["status"] == "accepted"
    assert (await flow.deliver(secret, body)).json()["status"] == "accepted"
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 0  # it would start "created": the change ran
    assert len(await flow.runs()) == 2


async def test_private_incidents_are_left_to_their_webhooks(flow: Flow) -> None:
    await ready(flow)
    await lost_incident(flow, visibility="private")
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 0


async def test_rows_of_changes_are_kept_two_days_then_dropped_by_the_next_poll(
        flow: Flow) -> None:
    await ready(flow)
    await lost_incident(flow)
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 1
    assert flow.count("incident_changes") == 1
    flow.clock.advance(hours=47)
    await poller(flow).tick()
    assert flow.count("incident_changes") == 1  # a late webhook still finds it
    flow.clock.advance(hours=2)
    await poller(flow).tick()
    assert flow.count("incident_changes") == 0
    flow.clock.advance(minutes=3)
    assert await poller(flow).tick() == 0  # the newest change seen is not polled again
    assert len(await flow.runs()) == 1
