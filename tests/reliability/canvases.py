"""Canvases of the proofs, applied over the real management API."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import httpx

try:  # the session's log scan (tests/_logscan.py); absent when a script runs this
    from _logscan import known_secret
except ImportError:  # pragma: no cover
    def known_secret(value: str) -> None:
        pass

LOAD_CANVAS = """
name: load
nodes:
  - {name: On Incident, type: incident.onIncident}
  - {name: Done, type: noop}
  - name: Record
    type: http
    configuration:
      method: POST
      url: "SINK/record"
      body: {run: "{{ run.id }}", incident: "{{ root.data.incident.id }}"}
edges:
  - {from: On Incident, to: Done}
  - {from: Done, to: Record}
"""

MIRROR_CANVAS = """
name: mirror
nodes:
  - {name: On Incident, type: incident.onIncident}
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    rateLimit: {max: 1000, per: 60}  # the proofs send more than the default 10 a minute
    configuration:
      name: "[follow-up] {{ root.data.incident.name }}"
      severityId: SEVERITY_ID
edges:
  - {from: On Incident, to: Open follow-up}
"""
MINOR = "01FCNDV6P870EA6S7TK1DSYDG0"  # the emulator's first severity


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str


def api(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


def new_signing_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def apply_with_webhook(client: httpx.Client, name: str, text: str,
                       trigger: str = "On Incident") -> Webhook:
    """Apply ``text`` as canvas ``name`` and give its trigger a fresh signing secret."""
    saved = client.put(f"/api/v1/canvases/{name}", content=text,
                       headers={"Content-Type": "application/yaml"})
    assert saved.status_code == 200, saved.text
    secret = new_signing_secret()
    known_secret(secret)
    answer = client.post(f"/api/v1/canvases/{name}/nodes/{trigger}/hooks/setSecret",
                         json={"webhookSigningSecret": secret})
    assert answer.status_code == 200, answer.text
    return Webhook(answer.json()["live"]["webhookUrl"], secret)


def connect_incident_io(client: httpx.Client, base_url: str, api_key: str) -> None:
    known_secret(api_key)
    answer = client.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": api_key, "baseUrl": base_url}})
    assert answer.status_code == 200 and answer.json()["status"] == "ready", answer.text
