"""Pause and resume in Debian's chromium against real processes: a paused canvas keeps
the incident.io delivery and a person runs it on resume."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import pytest
from browser_support import TOKEN, shot
from helpers import wait_until

pytestmark = pytest.mark.browser
pw_sync = pytest.importorskip("playwright.sync_api")

CANVAS = """\
name: pausable
nodes:
  - {name: On Incident, type: incident.onIncident}
  - {name: Note it, type: noop}
edges:
  - {from: On Incident, to: Note it}
"""


def test_pause_keep_a_delivery_then_resume_and_run_it(browser_context: Any,
                                                       servers: dict[str, str]) -> None:
    expect = pw_sync.expect
    api = httpx.Client(base_url=servers["base"], timeout=10,
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.put("/api/v1/canvases/pausable", content=CANVAS,
                   headers={"Content-Type": "application/yaml"}).status_code == 200
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    live = api.post("/api/v1/canvases/pausable/nodes/On Incident/hooks/setSecret",
                    json={"webhookSigningSecret": secret}).json()["live"]
    httpx.post(f"{servers['emulator']}/_emulator/webhook-endpoints",
               json={"url": live["webhookUrl"], "secret": secret}).raise_for_status()

    page = browser_context.new_page()
    page.goto("/signin?next=/canvases/pausable")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Canvas paused.")).to_be_visible()
    expect(page.locator("#paused")).to_contain_text("Nothing has arrived since.")

    declared = httpx.post(f"{servers['emulator']}/_emulator/incidents",
                          json={"name": "Held while paused"})
    assert declared.status_code == 201, declared.text

    def held() -> list[dict] | None:
        log = api.get("/api/v1/canvases/pausable/nodes/On Incident/deliveries").json()
        return log["deliveries"] or None

    [delivery] = wait_until(held, 20, what="the delivery to be kept")
    assert (delivery["outcome"], delivery["heldEvents"]) == ("paused", 1)
    page.reload()
    expect(page.locator("#paused")).to_contain_text("1 delivery is waiting.")
    shot(page, "18-canvas-paused")
    page.get_by_role("button", name="Resume and run 1 held").click()
    expect(page.get_by_text("is running now")).to_be_visible()
    expect(page.locator("#paused")).to_have_count(0)
    runs = api.get("/api/v1/canvases/pausable/runs").json()["runs"]
    assert len(runs) == 1 and runs[0]["triggerNode"] == "On Incident"
