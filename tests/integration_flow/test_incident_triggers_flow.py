"""The incident.io triggers in process (host + worker + emulator), on SQLite and
PostgreSQL: status updates, private events fetched as the run's first step (whose
event becomes the run's ``root``), filters recorded in the delivery log, and the
missing-permission and no-integration paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from flow_support import EMULATOR_KEY, Flow, new_secret

from incidentflow.emulator import create_emulator_app

EXAMPLES = Path(__file__).parents[1] / "data" / "incidentio-webhook-examples"
PRIVATE_CREATED = "private_incident.incident_created_v2"
STATUS_UPDATED = "public_incident.incident_status_updated_v2"
MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"


def canvas(events: list[str], integration: bool = True, extra: str = "") -> str:
    named = "    integration: incident\n" if integration else ""
    return f"""
name: mirror
nodes:
  - name: On Incident
    type: incident.onIncident
{named}    configuration: {{events: {json.dumps(events)}{extra}}}
  - name: Named
    type: filter
    configuration: {{expression: "root.data.incident.name == 'Secret outage'"}}
edges:
  - {{from: On Incident, to: Named}}
"""


async def ready(flow: Flow, text: str) -> str:
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(text)
    assert response.status_code == 200, response.text
    secret = new_secret()
    await flow.set_secret(secret)
    return secret


async def private_incident(flow: Flow) -> dict[str, Any]:
    response = await flow.incidentio.post("/_emulator/incidents", json={
        "name": "Secret outage", "visibility": "private"})
    return dict(response.json()["incident"])


def private_body(incident_id: str, event_type: str = PRIVATE_CREATED) -> bytes:
    return json.dumps({"event_type": event_type, event_type: {"id": incident_id}}).encode()


async def test_a_private_delivery_is_fetched_as_the_first_step_and_becomes_the_root(
        flow: Flow) -> None:
    secret = await ready(flow, canvas([PRIVATE_CREATED]))
    incident = await private_incident(flow)
    response = await flow.deliver(secret, private_body(incident["id"]))
    assert response.json() == {"status": "accepted"}  # acknowledged before any fetch
    assert await flow.work() == 2  # the fetch, then the filter reading root

    run = await flow.only_run()
    assert run.state == "succeeded"
    assert run.root.type == "incident.incident.created"
    assert run.root.data == {"event_type": PRIVATE_CREATED, "incident": incident}
    fetch, named = sorted(run.executions, key=lambda e: e.created_at)
    assert fetch.node == "On Incident"
    assert fetch.input == run.root  # the step's input is the run's trigger event, completed
    [emitted] = fetch.emitted
    assert emitted["event"]["data"]["incident"] == incident
    assert named.node == "Named" and named.state == "succeeded"
    assert [e["channel"] for e in named.emitted] == ["default"]  # the filter passed
    calls = (await flow.incidentio.get("/_emulator/requests")).json()["requests"]
    assert [c["path"] for c in calls if c["method"] == "GET"] == [
        "/v1/severities", f"/v2/incidents/{incident['id']}"]


async def test_the_fetch_is_retried_through_an_outage(flow: Flow) -> None:
    secret = await ready(flow, canvas([PRIVATE_CREATED]))
    incident = await private_incident(flow)
    await flow.deliver(secret, private_body(incident["id"]))
    flow.network.down = True
    await flow.work()
    [summary] = await flow.runs()
    assert summary.state == "running"
    flow.network.down = False
    flow.clock.advance(minutes=10)
    await flow.work()
    run = await flow.only_run()
    assert run.state == "succeeded" and run.root.data["incident"] == incident
    fetch = next(e for e in run.executions if e.node == "On Incident")
    assert fetch.attempts == 2


async def test_a_key_without_the_permission_fails_the_step_and_names_it(flow: Flow) -> None:
    secret = await ready(flow, canvas([PRIVATE_CREATED]))
    incident = await private_incident(flow)
    limited = create_emulator_app(flow.emulator_state,
                                  api_keys={EMULATOR_KEY: {"severities.view"}})
    flow.network.inner = httpx.ASGITransport(app=limited)
    await flow.deliver(secret, private_body(incident["id"]))
    await flow.work()
    run = await flow.only_run()
    assert run.state == "failed"
    [fetch] = run.executions
    assert "lacks the permission" in fetch.error
    assert "View all incident data" in fetch.error


async def test_without_an_integration_the_delivery_log_says_why(flow: Flow) -> None:
    text = canvas([PRIVATE_CREATED], integration=False)
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(text)
    assert response.status_code == 200
    assert any(w["field"] == "integration" for w in response.json()["warnings"])
    secret = new_secret()
    await flow.set_secret(secret)
    assert (await flow.deliver(secret, private_body("01ANY"))).status_code == 200
    assert await flow.runs() == []
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "ignored"
    assert "names no incident integration" in delivery.reason


async def test_a_status_update_runs_with_both_statuses(flow: Flow) -> None:
    secret = await ready(flow, canvas([STATUS_UPDATED]).replace(
        "'Secret outage'", "'Our database is sad'"))
    raw = (EXAMPLES / f"{STATUS_UPDATED}.json").read_bytes()
    assert (await flow.deliver(secret, raw)).json() == {"status": "accepted"}
    await flow.work()
    run = await flow.only_run()
    sent = json.loads(raw)[STATUS_UPDATED]
    assert run.root.type == "incident.incident.status_updated"
    assert run.root.data == {"event_type": STATUS_UPDATED, "incident": sent["incident"],
                             "previous_status": sent["previous_status"],
                             "new_status": sent["new_status"], "message": sent["message"]}
    assert run.state == "succeeded"


async def test_a_filtered_delivery_starts_nothing_and_the_log_says_which_filter(
        flow: Flow) -> None:
    created = "public_incident.incident_created_v2"
    secret = await ready(flow, canvas([created], extra=f", severities: [{MAJOR}]"))
    raw = (EXAMPLES / f"{created}.json").read_bytes()  # a Minor incident
    assert (await flow.deliver(secret, raw)).status_code == 200
    assert await flow.runs() == []
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "filtered"
    assert delivery.reason.startswith("filtered: severity")
    assert (await flow.live())["deliveries"]["filtered"] == 1


async def test_an_unknown_severity_in_the_filter_is_refused_at_save(flow: Flow) -> None:
    assert (await flow.connect_integration())["status"] == "ready"
    text = canvas(["public_incident.incident_created_v2"],
                  extra=f", severities: [{MAJOR}, 01NOSUCHSEVERITY]")
    response = await flow.apply(text)
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["node"], problem["field"]) == ("On Incident", "configuration.severities[1]")
    assert "01NOSUCHSEVERITY" in problem["message"]


async def test_an_unknown_incident_type_in_the_filter_is_refused_at_save(flow: Flow) -> None:
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(canvas(["public_incident.incident_created_v2"],
                                       extra=", incidentTypes: [01NOSUCHTYPE]"))
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["node"], problem["field"]) == ("On Incident",
                                                   "configuration.incidentTypes[0]")
    assert "incident type '01NOSUCHTYPE' does not exist" in problem["message"]


async def test_a_private_delivery_held_while_paused_is_fetched_when_resumed(
        flow: Flow) -> None:
    secret = await ready(flow, canvas([PRIVATE_CREATED]))
    incident = await private_incident(flow)
    await flow.host.canvases.pause_canvas("mirror")
    assert (await flow.deliver(secret, private_body(incident["id"]))).status_code == 200
    resumed = await flow.host.canvases.resume_canvas("mirror", "run")
    assert len(resumed["runIds"]) == 1
    await flow.work()
    run = await flow.only_run()
    assert run.state == "succeeded"
    assert [e.node for e in sorted(run.executions, key=lambda e: e.created_at)] == [
        "On Incident", "Named"]
    assert run.root.data["incident"] == incident
