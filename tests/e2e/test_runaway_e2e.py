"""The issue's runaway canvas, end to end over real HTTP between real processes:
On Incident -> Create Incident built with the defaults (public, no filter) opens
exactly one follow-up for one declared incident; the follow-up's own webhook comes
back and is logged as ignored. Also when incident.io sends that webhook before it
answers the create call (the emulator's ``webhook_lead_seconds``)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import httpx
import pytest
from helpers import ServerProcess, wait_until

from .test_incident_e2e import EMULATOR_KEY, MAJOR, emulator_process, ok

CANVAS = f"""
name: NAME
nodes:
  - {{name: On Incident, type: incident.onIncident}}
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "Follow-up: {{{{ root.data.incident.name }}}}"
      severityId: {MAJOR}
edges:
  - {{from: On Incident, to: Open follow-up}}
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulator_process(tmp_path_factory.mktemp("emulator")) as url:
        yield url


def wire(api: httpx.Client, incidentio: httpx.Client, emulator: str, name: str) -> None:
    incidentio.post("/_emulator/reset").raise_for_status()
    ok(api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": emulator}}))
    ok(api.put(f"/api/v1/canvases/{name}", content=CANVAS.replace("NAME", name),
               headers={"Content-Type": "application/yaml"}))
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    live = ok(api.post(f"/api/v1/canvases/{name}/nodes/On Incident/hooks/setSecret",
                       json={"webhookSigningSecret": secret}))["live"]
    ok(incidentio.post("/_emulator/webhook-endpoints",
                       json={"url": live["webhookUrl"], "secret": secret}))


def incidents(incidentio: httpx.Client) -> list[dict]:
    listed = ok(incidentio.get("/v2/incidents",
                               headers={"Authorization": f"Bearer {EMULATOR_KEY}"}))
    return list(listed["incidents"])


def one_follow_up(api: httpx.Client, incidentio: httpx.Client, name: str) -> dict:
    """Declare one incident; wait for the follow-up's webhook to be logged; check that
    nothing else happened. Returns the run."""
    declared = ok(incidentio.post("/_emulator/incidents", json={
        "name": "Checkout is down", "severity_id": MAJOR}))["incident"]
    log_path = f"/api/v1/canvases/{name}/nodes/On Incident/deliveries"
    log = wait_until(lambda: (lambda d: d if len(d) >= 2 else None)(
        ok(api.get(log_path))["deliveries"]), 30, what="both deliveries to be logged")
    assert ok(incidentio.post("/_emulator/deliveries/drain?timeout=15"))["settled"] is True
    runs = ok(api.get(f"/api/v1/canvases/{name}/runs"))["runs"]
    assert len(runs) == 1, runs
    run = wait_until(lambda: (lambda r: r if r["state"] != "running" else None)(
        ok(api.get(f"/api/v1/runs/{runs[0]['id']}"))), 30, what="the run to finish")
    assert run["state"] == "succeeded", run
    assert run["root"]["data"]["incident"]["id"] == declared["id"]

    found = incidents(incidentio)
    assert sorted(i["name"] for i in found) == ["Checkout is down",
                                                "Follow-up: Checkout is down"]
    follow_up = next(i for i in found if i["name"].startswith("Follow-up"))
    assert follow_up["visibility"] == "public"  # the default: its webhook does come back
    log = ok(api.get(log_path))["deliveries"]
    assert [d["outcome"] for d in log] == ["ignored", "accepted"]
    assert log[0]["reason"] == (f"self-triggered: incident.incident {follow_up['id']} was "
                                f"created by this canvas (run {run['id']})")
    assert ok(api.get(f"/api/v1/canvases/{name}/runs"))["runs"] == runs  # still one run
    return run


@pytest.mark.slow
def test_a_canvas_with_default_settings_opens_exactly_one_follow_up(
        server: ServerProcess, emulator: str) -> None:
    api = httpx.Client(base_url=server.url, timeout=10,
                       headers={"Authorization": f"Bearer {server.token}"})
    incidentio = httpx.Client(base_url=emulator, timeout=10)
    wire(api, incidentio, emulator, "loop-default")
    one_follow_up(api, incidentio, "loop-default")


@pytest.mark.slow
def test_the_guard_holds_when_the_webhook_arrives_before_the_create_returns(
        server: ServerProcess, emulator: str) -> None:
    api = httpx.Client(base_url=server.url, timeout=10,
                       headers={"Authorization": f"Bearer {server.token}"})
    incidentio = httpx.Client(base_url=emulator, timeout=10)
    wire(api, incidentio, emulator, "loop-race")
    ok(incidentio.post("/_emulator/timing", json={"webhook_lead_seconds": 1.0}))
    run = one_follow_up(api, incidentio, "loop-race")
    create = next(e for e in run["executions"] if e["node"] == "Open follow-up")
    ignored = ok(api.get("/api/v1/canvases/loop-race/nodes/On Incident/deliveries"))[
        "deliveries"][0]
    # The follow-up's webhook reached us while its create call was still unanswered.
    assert ignored["receivedAt"] < create["finishedAt"]
    ok(incidentio.post("/_emulator/timing", json={"webhook_lead_seconds": 0}))


def tripped_view(api: httpx.Client, name: str) -> dict | None:
    view = ok(api.get(f"/api/v1/canvases/{name}"))
    return view if view["trippedNodes"] else None


@pytest.mark.slow
def test_with_the_guard_opted_out_the_rate_limit_trips_at_ten_and_holds_the_rest(
        server: ServerProcess, emulator: str) -> None:
    """The issue's 241-incident loop, with its first brake released on purpose: the
    second brake (the create rate limit, 10 per minute per node by default) stops it."""
    api = httpx.Client(base_url=server.url, timeout=10,
                       headers={"Authorization": f"Bearer {server.token}"})
    incidentio = httpx.Client(base_url=emulator, timeout=10)
    opted_out = CANVAS.replace("{name: On Incident, type: incident.onIncident}",
                               "{name: On Incident, type: incident.onIncident, "
                               "configuration: {allowSelfTriggered: true}}")
    assert opted_out != CANVAS
    name = "loop-opted-out"
    incidentio.post("/_emulator/reset").raise_for_status()
    ok(api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": emulator}}))
    saved = ok(api.put(f"/api/v1/canvases/{name}", content=opted_out.replace("NAME", name),
                       headers={"Content-Type": "application/yaml"}))
    # Saving warns that the canvas can feed itself and that only the rate limit guards it.
    assert any("can feed itself" in w["message"] and "10 per 60 s" in w["message"]
               and "guard of 'On Incident' is off" in w["message"]
               for w in saved["warnings"]), saved["warnings"]
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    live = ok(api.post(f"/api/v1/canvases/{name}/nodes/On Incident/hooks/setSecret",
                       json={"webhookSigningSecret": secret}))["live"]
    ok(incidentio.post("/_emulator/webhook-endpoints",
                       json={"url": live["webhookUrl"], "secret": secret}))

    ok(incidentio.post("/_emulator/incidents", json={"name": "Checkout is down",
                                                     "severity_id": MAJOR}))
    view = wait_until(lambda: tripped_view(api, name), 60, what="the rate limit to trip")
    [tripped] = view["trippedNodes"]
    assert tripped["node"] == "Open follow-up" and tripped["held"] >= 1
    assert ok(incidentio.post("/_emulator/deliveries/drain?timeout=15"))["settled"] is True

    # One declared by a person, ten opened by the canvas, and nothing after the trip.
    found = incidents(incidentio)
    assert len(found) == 11, [i["name"] for i in found]
    assert sum(i["name"].startswith("Follow-up") for i in found) == 10
    view = ok(api.get(f"/api/v1/canvases/{name}"))
    assert [t["held"] for t in view["trippedNodes"]] == [tripped["held"]]
    assert len(incidents(incidentio)) == 11

    resumed = ok(api.post(f"/api/v1/canvases/{name}/nodes/Open follow-up/resume",
                          json={"held": "discard"}))
    assert resumed["discarded"] == tripped["held"]
    assert len(incidents(incidentio)) == 11
