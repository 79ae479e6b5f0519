"""The incident.io issue end to end, over real HTTP between real processes:

``incidentflow emulator`` (incident.io) --signed webhook--> ``incidentflow serve``
--POST /v2/incidents--> the emulator. Both are subprocesses on free 127.0.0.1 ports.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, cli_command, free_port, stop_process, wait_until

EMULATOR_KEY = "e2e-emulator-key"
MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"  # the emulator's fixed "Major" severity id
CANVAS = f"""
name: mirror
nodes:
  - name: On Incident
    type: incident.onIncident
    configuration: {{events: [public_incident.incident_created_v2]}}
  - name: Only majors
    type: filter
    configuration:
      expression: >-
        root.data.incident.severity.name == 'Major'
        and not root.data.incident.name.startswith('[follow-up]')
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "[follow-up] {{{{ root.data.incident.name }}}}"
      summary: "For {{{{ root.data.incident.reference }}}}"
      severityId: {MAJOR}
      visibility: private
edges:
  - {{from: On Incident, to: Only majors}}
  - {{from: Only majors, to: Open follow-up}}
"""


@contextlib.contextmanager
def emulator_process(log_dir: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Not "emulator-*.log": tests/_logscan.py scans those for product secrets, and the
    # emulator's startup banner prints its own fake API key on purpose (a local tool).
    with open(log_dir / f"incidentio-stand-in-{port}.out", "wb") as log:
        process = subprocess.Popen(
            cli_command("emulator", "--port", str(port), "--api-key", EMULATOR_KEY),
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: _answers(process, f"{url}/_emulator/faults"), 30, what="emulator")
        yield url
    finally:
        stop_process(process)


def _answers(process: subprocess.Popen[bytes], url: str) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"emulator exited with {process.returncode}")
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulator_process(tmp_path_factory.mktemp("emulator")) as url:
        yield url


def ok(response: httpx.Response) -> dict:
    assert response.is_success, f"{response.request.url}: {response.status_code} {response.text}"
    return dict(response.json())


def finished_run(api: httpx.Client, incident_id: str) -> dict | None:
    """The finished run started by ``incident_id`` (the follow-up starts a run too)."""
    for summary in ok(api.get("/api/v1/canvases/mirror/runs"))["runs"]:
        run = ok(api.get(f"/api/v1/runs/{summary['id']}"))
        if run["root"]["data"]["incident"]["id"] == incident_id:
            return run if run["state"] != "running" else None
    return None


@pytest.mark.slow
def test_an_incident_opened_in_incident_io_opens_a_follow_up(server: ServerProcess,
                                                           emulator: str) -> None:
    api = httpx.Client(base_url=server.url, timeout=10,
                       headers={"Authorization": f"Bearer {server.token}"})
    incidentio = httpx.Client(base_url=emulator, timeout=10)

    integration = ok(api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": emulator}}))
    assert integration["status"] == "ready"
    saved = ok(api.put("/api/v1/canvases/mirror", content=CANVAS,
                       headers={"Content-Type": "application/yaml"}))
    assert saved["version"] == 1
    view = ok(api.get("/api/v1/canvases/mirror"))
    live = next(n for n in view["nodes"] if n["name"] == "On Incident")["live"]
    assert live["operational"] is False and live["reason"] == "signing secret not set"

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    ok(incidentio.post("/_emulator/webhook-endpoints",
                       json={"url": live["webhookUrl"], "secret": secret}))
    hooked = ok(api.post("/api/v1/canvases/mirror/nodes/On Incident/hooks/setSecret",
                         json={"webhookSigningSecret": secret}))
    assert hooked["live"]["operational"] is True
    assert secret not in str(ok(api.get("/api/v1/canvases/mirror")))

    opened = ok(incidentio.post("/_emulator/incidents", json={
        "name": "Checkout is down", "severity_id": MAJOR}))["incident"]

    run = wait_until(lambda: finished_run(api, opened["id"]), 30, what="the run to finish")
    assert run["state"] == "succeeded", run
    assert run["eventType"] == "incident.incident.created"
    assert run["root"]["data"]["event_type"] == "public_incident.incident_created_v2"
    follow_up = {e["node"]: e for e in run["executions"]}["Open follow-up"]
    [emitted] = follow_up["emitted"]
    assert emitted["event"]["type"] == "incident.incident"

    calls = ok(incidentio.get("/_emulator/requests"))["requests"]
    [create] = [c for c in calls if c["method"] == "POST" and c["path"] == "/v2/incidents"]
    assert create["headers"]["authorization"] == f"Bearer {EMULATOR_KEY}"
    assert create["body"]["name"] == "[follow-up] Checkout is down"
    assert create["body"]["severity_id"] == MAJOR
    assert create["body"]["visibility"] == "private"
    assert create["body"]["idempotency_key"] == follow_up["idempotencyKey"]
    assert create["body"]["idempotency_key"].startswith("if-")
    created = ok(incidentio.get(f"/v2/incidents/{emitted['event']['data']['id']}",
                                headers={"Authorization": f"Bearer {EMULATOR_KEY}"}))
    assert emitted["event"]["data"] == created["incident"]  # the incident whole

    drained = ok(incidentio.post("/_emulator/deliveries/drain"))
    assert drained["settled"] is True
    first = next(d for d in drained["deliveries"] if opened["id"] in d["payload"])
    assert first["status"] == "delivered"
    assert [a["status_code"] for a in first["attempts"]] == [200]
