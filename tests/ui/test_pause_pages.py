"""Pausing and resuming a canvas from its page; what a paused canvas shows."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from helpers import signed_headers
from ui_support import ADMIN_TOKEN, MANUAL, MIRROR, Browser, apply

API = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BODY = json.dumps({"event_type": "public_incident.incident_created_v2",
                   "public_incident.incident_created_v2": {"id": "01UI", "name": "x"}}).encode()


def hooked(browser: Browser) -> dict[str, str]:
    """The mirror canvas with a signing secret; returns its webhook path and secret."""
    assert apply(browser, MIRROR).status_code == 200
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    answer = browser.client.post("/api/v1/canvases/mirror/nodes/On Incident/hooks/setSecret",
                                 json={"webhookSigningSecret": secret}, headers=API)
    url = answer.json()["live"]["webhookUrl"]
    return {"path": "/webhooks/" + url.rsplit("/", 1)[1], "secret": secret}


def deliver(browser: Browser, target: dict[str, str], msg_id: str, body: bytes = BODY) -> Any:
    headers = signed_headers(target["secret"], body, msg_id)
    return browser.client.post(target["path"], content=body, headers=headers)


def test_pause_then_resume_and_run_what_arrived(with_integration: Browser) -> None:
    hook = hooked(with_integration)
    page = with_integration.get("/canvases/mirror")
    assert 'id="pause-canvas"' in page.text and 'id="paused"' not in page.text
    paused = with_integration.submit("/canvases/mirror/pause", {})
    assert "Canvas paused." in paused.text and 'id="paused"' in paused.text
    assert "Nothing has arrived since." in paused.text
    assert 'id="pause-canvas"' not in paused.text
    assert ">paused</span>" in with_integration.get("/canvases").text

    assert deliver(with_integration, hook, "msg_ui_1").json() == {"status": "paused"}
    page = with_integration.get("/canvases/mirror")
    assert "1 delivery is waiting." in page.text
    assert "Resume and run 1 held" in page.text and "Resume and discard 1 held" in page.text
    panel = with_integration.get("/canvases/mirror/nodes/On Incident")
    assert "paused 1" in panel.text and "(1 held until resumed)" in panel.text

    resumed = with_integration.submit("/canvases/mirror/resume", {"pending": "run"})
    assert "is running now" in resumed.text and 'id="paused"' not in resumed.text
    runs = with_integration.client.get("/api/v1/canvases/mirror/runs", headers=API).json()
    assert len(runs["runs"]) == 1


def test_resume_and_discard(with_integration: Browser) -> None:
    hook = hooked(with_integration)
    with_integration.get("/canvases/mirror")
    with_integration.submit("/canvases/mirror/pause", {})
    deliver(with_integration, hook, "msg_ui_2")
    with_integration.get("/canvases/mirror")
    resumed = with_integration.submit("/canvases/mirror/resume", {"pending": "discard"})
    assert "was discarded" in resumed.text
    runs = with_integration.client.get("/api/v1/canvases/mirror/runs", headers=API).json()
    assert runs["runs"] == []


def test_a_plain_resume_after_deliveries_arrived_asks_for_a_choice(
        with_integration: Browser) -> None:
    hook = hooked(with_integration)
    with_integration.get("/canvases/mirror")
    with_integration.submit("/canvases/mirror/pause", {})  # the page says nothing arrived
    deliver(with_integration, hook, "msg_ui_3")  # ... and then something does
    answer = with_integration.submit("/canvases/mirror/resume", {})
    assert "choose whether to run or discard them" in answer.text
    assert 'id="paused"' in answer.text and "Resume and run 1 held" in answer.text


def test_a_manual_run_of_a_paused_canvas_is_refused_with_the_reason(
        with_integration: Browser) -> None:
    assert apply(with_integration, MANUAL).status_code == 200
    with_integration.get("/canvases/manual")
    with_integration.submit("/canvases/manual/pause", {})
    with_integration.get("/canvases/manual/nodes/Start")
    answer = with_integration.submit("/canvases/manual/nodes/Start/run",
                                     {"payload": '{"title": "x"}'})
    assert answer.status_code == 422
    assert "canvas &#39;manual&#39; is paused" in answer.text


def test_the_panel_shows_why_a_delivery_was_ignored(with_integration: Browser) -> None:
    hook = hooked(with_integration)
    other = BODY.replace(b"incident_created_v2", b"incident_status_updated_v2")
    assert deliver(with_integration, hook, "msg_ui_4", other).json() == {"status": "ignored"}
    panel = with_integration.get("/canvases/mirror/nodes/On Incident")
    assert "ignored 1" in panel.text and "event type not selected" in panel.text
