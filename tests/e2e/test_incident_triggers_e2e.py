"""incident.io triggers end to end, over real HTTP between real processes: the
emulator's signed webhooks reach ``incidentflow serve``; a status change runs On
Incident with both statuses, and a private incident's id-only delivery is fetched
back from the emulator as the run's first step."""

from __future__ import annotations

import base64
import secrets

import httpx
import pytest
from helpers import ServerProcess, wait_until

from tests.e2e.test_incident_e2e import EMULATOR_KEY, emulator, ok

AUTH = {"Authorization": f"Bearer {EMULATOR_KEY}"}
MONITORING = "01FCNDV6P870EA6S7TK1DSYD5M"  # the emulator's "Monitoring" status (live)
STATUS_UPDATED = "public_incident.incident_status_updated_v2"
PRIVATE_CREATED = "private_incident.incident_created_v2"
CANVAS = f"""
name: lifecycle
nodes:
  - name: On Incident
    type: incident.onIncident
    integration: incident
    configuration: {{events: [{STATUS_UPDATED}, {PRIVATE_CREATED}]}}
  - name: Named
    type: filter
    configuration: {{expression: "root.data.incident.name.endswith('(e2e)')"}}
edges:
  - {{from: On Incident, to: Named}}
"""

pytestmark = pytest.mark.slow
__all__ = ["emulator"]  # the emulator process fixture, shared with test_incident_e2e


def finished_runs(api: httpx.Client, count: int) -> list[dict] | None:
    runs = [ok(api.get(f"/api/v1/runs/{s['id']}"))
            for s in ok(api.get("/api/v1/canvases/lifecycle/runs"))["runs"]]
    if len(runs) < count or any(r["state"] == "running" for r in runs):
        return None
    return runs


def test_status_updates_and_private_incidents_run_over_http(server: ServerProcess,
                                                             emulator: str) -> None:
    api = httpx.Client(base_url=server.url, timeout=10,
                       headers={"Authorization": f"Bearer {server.token}"})
    incidentio = httpx.Client(base_url=emulator, timeout=10)
    incidentio.post("/_emulator/reset").raise_for_status()
    assert ok(api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": emulator}},
    ))["status"] == "ready"
    ok(api.put("/api/v1/canvases/lifecycle", content=CANVAS,
               headers={"Content-Type": "application/yaml"}))
    view = ok(api.get("/api/v1/canvases/lifecycle"))
    url = next(n for n in view["nodes"] if n["name"] == "On Incident")["live"]["webhookUrl"]
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    ok(incidentio.post("/_emulator/webhook-endpoints", json={"url": url, "secret": secret}))
    ok(api.post("/api/v1/canvases/lifecycle/nodes/On Incident/hooks/setSecret",
                json={"webhookSigningSecret": secret}))

    public = ok(incidentio.post("/_emulator/incidents", json={
        "name": "Checkout is down (e2e)"}))["incident"]  # created: not selected
    ok(incidentio.post(f"/v2/incidents/{public['id']}/actions/edit", headers=AUTH, json={
        "incident": {"incident_status_id": MONITORING}, "notify_incident_channel": False}))
    private = ok(incidentio.post("/_emulator/incidents", json={
        "name": "Payroll leak (e2e)", "visibility": "private"}))["incident"]

    runs = wait_until(lambda: finished_runs(api, 2), 30, what="two runs to finish")
    assert len(runs) == 2
    by_type = {r["root"]["data"]["event_type"]: r for r in runs}

    status = by_type[STATUS_UPDATED]
    assert status["state"] == "succeeded", status
    assert status["root"]["type"] == "incident.incident.status_updated"
    data = status["root"]["data"]
    assert data["previous_status"]["id"] == public["incident_status"]["id"]
    assert data["new_status"]["id"] == MONITORING == data["incident"]["incident_status"]["id"]

    fetched = by_type[PRIVATE_CREATED]
    assert fetched["state"] == "succeeded", fetched
    assert fetched["root"]["type"] == "incident.incident.created"
    assert fetched["root"]["data"]["incident"]["name"] == "Payroll leak (e2e)"
    steps = {e["node"]: e for e in fetched["executions"]}
    assert set(steps) == {"On Incident", "Named"}
    assert [e["channel"] for e in steps["Named"]["emitted"]] == ["default"]  # read root
    calls = ok(incidentio.get("/_emulator/requests"))["requests"]
    assert f"/v2/incidents/{private['id']}" in [c["path"] for c in calls
                                                if c["method"] == "GET"]

    def outcomes() -> list[str] | None:
        log = ok(api.get("/api/v1/canvases/lifecycle/nodes/On Incident/deliveries"))
        found = sorted(d["outcome"] for d in log["deliveries"])
        return found if len(found) == 4 else None

    # The public incident's created and updated deliveries: acknowledged, not selected.
    assert wait_until(outcomes, 30, what="four deliveries") == [
        "accepted", "accepted", "ignored", "ignored"]
