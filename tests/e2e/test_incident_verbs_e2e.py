"""The incident.io actions end to end over real HTTP between real processes: a manual
run of ``incidentflow serve`` opens an incident in ``incidentflow emulator``, pages its
escalation path, files a follow-up, raises and resolves an alert with the alert source's
token from a canvas secret, and moves the incident to Monitoring."""

from __future__ import annotations

import httpx
import pytest
from helpers import ServerProcess, wait_until

from e2e.test_incident_e2e import EMULATOR_KEY, MAJOR, ok
from e2e.test_incident_e2e import emulator as emulator  # noqa: F401 - the fixture
from incidentflow.emulator import catalog

MONITORING = "01FCNDV6P870EA6S7TK1DSYD5M"
CANVAS = f"""
name: lifecycle
nodes:
  - name: Start
    type: start
  - name: Open
    type: incident.createIncident
    integration: incident
    configuration: {{name: "{{{{ root.data.what }}}}", severityId: {MAJOR}}}
  - name: Page
    type: incident.createEscalation
    integration: incident
    configuration:
      title: "{{{{ nodes['Open'].data.reference }}}} needs you"
      escalationPathId: {catalog.default_escalation_paths()[0]["id"]}
      incident: "{{{{ nodes['Open'].data.id }}}}"
  - name: Follow up
    type: incident.createFollowUp
    integration: incident
    configuration: {{incident: "{{{{ nodes['Open'].data.reference }}}}", title: Post-mortem}}
  - name: Raise
    type: incident.sendAlertEvent
    integration: incident
    configuration:
      alertSourceConfigId: {catalog.ALERT_SOURCE_ID}
      token: "{{{{ secrets.ALERT_TOKEN }}}}"
      title: "{{{{ root.data.what }}}}"
      deduplicationKey: "{{{{ nodes['Open'].data.id }}}}"
  - name: Clear
    type: incident.sendAlertEvent
    integration: incident
    configuration:
      alertSourceConfigId: {catalog.ALERT_SOURCE_ID}
      token: "{{{{ secrets.ALERT_TOKEN }}}}"
      title: "{{{{ root.data.what }}}}"
      status: resolved
      deduplicationKey: "{{{{ nodes['Open'].data.id }}}}"
  - name: Monitor
    type: incident.updateIncident
    integration: incident
    configuration: {{incident: "{{{{ nodes['Open'].data.reference }}}}", statusId: {MONITORING}}}
edges:
  - {{from: Start, to: Open}}
  - {{from: Open, to: Page}}
  - {{from: Page, to: Follow up}}
  - {{from: Follow up, to: Raise}}
  - {{from: Raise, to: Clear}}
  - {{from: Clear, to: Monitor}}
"""


def finished(api: httpx.Client, run_id: str) -> dict | None:
    run = ok(api.get(f"/api/v1/runs/{run_id}"))
    return run if run["state"] not in ("running", "pending") else None


@pytest.mark.slow
def test_the_incident_verbs_over_real_http(server: ServerProcess, emulator: str) -> None:
    api = httpx.Client(base_url=server.url, timeout=10,
                       headers={"Authorization": f"Bearer {server.token}"})
    incidentio = httpx.Client(base_url=emulator, timeout=10,
                              headers={"Authorization": f"Bearer {EMULATOR_KEY}"})
    ok(api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": emulator}}))
    ok(api.put("/api/v1/secrets/ALERT_TOKEN", json={"value": catalog.ALERT_SOURCE_TOKEN}))
    ok(api.put("/api/v1/canvases/lifecycle", content=CANVAS,
               headers={"Content-Type": "application/yaml"}))

    started = ok(api.post("/api/v1/canvases/lifecycle/nodes/Start/run",
                          json={"what": "Checkout down"}))
    run = wait_until(lambda: finished(api, started["runId"]), 30, what="the run to finish")
    assert run["state"] == "succeeded", run
    executions = {e["node"]: e for e in run["executions"]}
    incident = executions["Open"]["emitted"][0]["event"]["data"]
    assert executions["Monitor"]["emitted"][0]["event"]["data"]["incident_status"][
        "name"] == "Monitoring"
    assert catalog.ALERT_SOURCE_TOKEN not in str(run)  # the secret is masked in the run

    calls = ok(incidentio.get("/_emulator/requests"))["requests"]
    [page] = [c for c in calls if c["path"] == "/v2/escalations"]
    assert page["body"]["idempotency_key"] == executions["Page"]["idempotencyKey"]
    [follow_up] = [c for c in calls if c["path"] == "/v2/follow_ups"]
    assert follow_up["body"]["incident_id"] == incident["id"]
    alert_events = [c for c in calls if c["path"].startswith("/v2/alert_events/")]
    assert [c["body"]["status"] for c in alert_events] == ["firing", "resolved"]
    assert {c["headers"]["authorization"] for c in alert_events} == {
        f"Bearer {catalog.ALERT_SOURCE_TOKEN}"}  # never the API key
    shown = ok(incidentio.get(f"/v2/incidents/{incident['id']}"))["incident"]
    assert shown["incident_status"]["name"] == "Monitoring"
