"""The create rate limit in a real browser (chromium) against real processes: the
self-feeding warning in the editor and the node panel, a tripped node in its panel,
and its Release button."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from browser_support import EMULATOR_KEY, TOKEN, WAIT_MS, shot
from helpers import wait_until
from ui_support import RATE_LIMITED_LOOP

pytestmark = pytest.mark.browser
pw_sync = pytest.importorskip("playwright.sync_api")
expect = pw_sync.expect



def states(api: httpx.Client) -> list[str]:
    runs = api.get("/api/v1/canvases/loop/runs").json()["runs"]
    return sorted(api.get(f"/api/v1/runs/{r['id']}").json()["executions"][0]["state"]
                  for r in runs)


def test_trip_warn_and_release_in_the_browser(browser_context: Any,
                                              servers: dict[str, str]) -> None:
    api = httpx.Client(base_url=servers["base"], headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.put("/api/v1/integrations/incident", json={"type": "incident", "configuration": {
        "apiKey": EMULATOR_KEY, "baseUrl": servers["emulator"]}}).status_code == 200
    page = browser_context.new_page()
    page.goto("/signin")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()

    page.goto("/canvases/new")
    page.get_by_label("Canvas YAML").fill(RATE_LIMITED_LOOP)
    page.get_by_role("button", name="Save canvas").click()
    expect(page.get_by_text("Canvas saved.")).to_be_visible()
    page.goto("/canvases/loop/edit")
    expect(page.locator("#feedback")).to_contain_text("This canvas can feed itself.")
    expect(page.locator("#feedback")).to_contain_text("the rate limit of 'Create' (1 per 600 s)")

    for _ in range(3):
        assert api.post("/api/v1/canvases/loop/nodes/Start/run", json={}).status_code == 202
    wait_until(lambda: states(api) == ["held", "held", "succeeded"], 20, what="two held")

    page.goto("/canvases/loop/nodes/Create")
    expect(page.locator(".feedback-note")).to_contain_text("This node creates incident.incident")
    expect(page.locator("#tripped")).to_contain_text("2 held")
    shot(page, "19-node-tripped")
    page.get_by_role("button", name="Release held (2)").click()
    expect(page.get_by_text("Node resumed: what it held is running now.")).to_be_visible(
        timeout=WAIT_MS)
    expect(page.locator("#not-tripped")).to_be_visible()
    wait_until(lambda: states(api) == ["succeeded"] * 3, 20, what="the released two to run")
    page.goto("/canvases")
    expect(page.locator(".tripped")).to_have_count(0)
    page.close()
