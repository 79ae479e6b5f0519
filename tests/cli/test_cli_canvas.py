"""``incidentflow canvas pause|resume|deliveries`` against a live server (real HTTP)."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
from helpers import signed_headers

from .conftest import Live

CANVAS = """
name: {name}
nodes:
  - {{name: On Incident, type: incident.onIncident}}
  - {{name: Start, type: start}}
"""
BODY = json.dumps({"event_type": "public_incident.incident_created_v2",
                   "public_incident.incident_created_v2": {"id": "01CLI", "name": "x"}}).encode()


def ready(invoke: Any, tmp_path: Path, name: str) -> str:
    """Applied with a signing secret; returns the secret."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(CANVAS.format(name=name))
    assert invoke("apply", str(path)).exit_code == 0
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    assert invoke("secret", "set", name, "On Incident", input=secret + "\n").exit_code == 0
    return secret


def deliver(live: Live, invoke: Any, name: str, secret: str, msg_id: str) -> httpx.Response:
    view = json.loads(invoke("canvases", "show", name, "--json").stdout)
    url = next(n for n in view["nodes"] if n["name"] == "On Incident")["live"]["webhookUrl"]
    path = "/webhooks/" + url.rsplit("/", 1)[1]
    headers = signed_headers(secret, BODY, msg_id)
    return httpx.post(f"{live.url}{path}", content=BODY, headers=headers, timeout=10)


def test_pause_hold_then_resume_and_run(invoke: Any, live: Live, tmp_path: Path) -> None:
    secret = ready(invoke, tmp_path, "cli-pause")
    paused = invoke("canvas", "pause", "cli-pause")
    assert paused.exit_code == 0, paused.output
    assert "canvas cli-pause paused since" in paused.stdout
    assert "(paused)" in invoke("canvases", "list").stdout

    answer = deliver(live, invoke, "cli-pause", secret, "msg_cli_1")
    assert answer.status_code == 200 and answer.json() == {"status": "paused"}
    refused = invoke("run", "cli-pause", "Start")
    assert refused.exit_code == 1 and "is paused" in refused.output

    listed = invoke("canvas", "deliveries", "cli-pause", "On Incident", "--json")
    [entry] = json.loads(listed.stdout)
    assert (entry["outcome"], entry["heldEvents"]) == ("paused", 1)

    undecided = invoke("canvas", "resume", "cli-pause")
    assert undecided.exit_code == 1 and "run or discard" in undecided.output
    resumed = invoke("canvas", "resume", "cli-pause", "--run-pending", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert len(json.loads(resumed.stdout)["runIds"]) == 1
    assert "(paused)" not in invoke("canvases", "list").stdout
    table = invoke("canvas", "deliveries", "cli-pause", "On Incident")
    assert table.exit_code == 0 and "msg_cli_1" in table.stdout and "paused" in table.stdout


def test_the_delivery_log_shows_the_code_of_a_refusal(invoke: Any, live: Live,
                                                      tmp_path: Path) -> None:
    ready(invoke, tmp_path, "cli-refused")
    forged = "whsec_" + base64.b64encode(b"not the secret, 24 bytes").decode()
    assert deliver(live, invoke, "cli-refused", forged, "msg_cli_forged").status_code == 403
    [entry] = json.loads(invoke("canvas", "deliveries", "cli-refused", "On Incident",
                                "--json").stdout)
    assert (entry["outcome"], entry["code"]) == ("rejected", "bad_signature")
    table = invoke("canvas", "deliveries", "cli-refused", "On Incident")
    assert table.exit_code == 0 and "bad_signature" in table.stdout


def test_resume_and_discard(invoke: Any, live: Live, tmp_path: Path) -> None:
    secret = ready(invoke, tmp_path, "cli-discard")
    invoke("canvas", "pause", "cli-discard")
    deliver(live, invoke, "cli-discard", secret, "msg_cli_2")
    resumed = invoke("canvas", "resume", "cli-discard", "--discard-pending")
    assert resumed.exit_code == 0, resumed.output
    assert "0 runs started from held deliveries, 1 discarded" in resumed.stdout
    runs = json.loads(invoke("runs", "list", "cli-discard", "--json").stdout)
    assert runs == []


def test_unknown_canvas_is_a_clear_error(invoke: Any) -> None:
    result = invoke("canvas", "pause", "no-such-canvas")
    assert result.exit_code == 1 and "does not exist" in result.output
