"""Issue #13's small things in Debian's chromium: the favicon, Reset zoom, the warning
marker's tooltip, clearing a signing secret through its confirmation page, the nav on
a run page; all under the strict Content-Security-Policy."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

import httpx
import pytest
from browser_support import EMULATOR_KEY, TOKEN, TRIAGE

pytestmark = pytest.mark.browser
pw_sync = pytest.importorskip("playwright.sync_api")

WATCHED = """\
name: watched
nodes:
  - {name: On Incident, type: incident.onIncident}
  - {name: Note it, type: noop}
edges:
  - {from: On Incident, to: Note it}
"""
MANUAL = """\
name: by-hand
nodes:
  - {name: Start, type: start}
  - {name: Note it, type: noop}
edges:
  - {from: Start, to: Note it}
"""
NOT_OPERATIONAL = "Warning: not operational: signing secret not set"


@pytest.fixture(scope="module")
def api(servers: dict[str, str]) -> Any:
    client = httpx.Client(base_url=servers["base"], timeout=10,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    client.put("/api/v1/integrations/incident", json={  # the 30-node canvas uses it
        "type": "incident",
        "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": servers["emulator"]},
    }).raise_for_status()
    for source in (WATCHED, MANUAL, TRIAGE):
        name = re.search(r"^name: (\S+)", source, re.M)
        assert name
        answer = client.put(f"/api/v1/canvases/{name.group(1)}", content=source,
                            headers={"Content-Type": "application/yaml"})
        assert answer.status_code == 200, answer.text
    yield client
    client.close()


@pytest.fixture(scope="module")
def page(browser_context: Any, api: Any) -> Any:
    page = browser_context.new_page()
    page.goto("/signin")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    pw_sync.expect(page.get_by_role("heading", name="Canvases")).to_be_visible()
    yield page
    page.close()


def test_the_favicon_is_served_and_linked(page: Any) -> None:
    icon = page.request.get("/favicon.ico")  # follows the redirect, as a browser does
    assert icon.status == 200 and icon.url.endswith("/static/favicon.svg")
    assert icon.headers["content-type"].startswith("image/svg+xml")
    page.goto("/canvases")
    linked = page.locator('link[rel="icon"]').get_attribute("href")
    assert page.request.get(linked).status == 200


def test_reset_zoom_goes_back_to_the_opening_zoom(page: Any) -> None:
    expect = pw_sync.expect
    page.goto("/canvases/major-incident-triage")
    level = page.locator("[data-zoom-level]")
    expect(level).to_have_text("75 %")  # 30 nodes do not fit: the page opens at 75 %
    expect(page.get_by_role("button", name="100 %")).to_have_count(0)
    page.get_by_role("button", name="Zoom in").click()
    expect(level).to_have_text("94 %")
    page.get_by_role("button", name="Reset zoom").click()
    expect(level).to_have_text("75 %")


def test_the_warning_marker_has_its_own_tooltip(page: Any) -> None:
    page.goto("/canvases/watched")
    marker = page.locator('g.node[data-node="On Incident"] text.flag')
    pw_sync.expect(marker).to_have_attribute("aria-label", NOT_OPERATIONAL)
    # An SVG <title> is the tooltip of the element it sits in: the ⚠ itself.
    assert marker.evaluate("m => m.firstElementChild.tagName") == "title"
    assert marker.locator("title").text_content() == NOT_OPERATIONAL


def test_clearing_the_signing_secret_asks_first(page: Any) -> None:
    expect = pw_sync.expect
    page.goto("/canvases/watched/nodes/On%20Incident")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    page.get_by_label("Signing secret from incident.io").fill(secret)
    page.get_by_role("button", name="Set signing secret").click()
    expect(page.locator("#secret-status")).to_have_text("set")

    page.get_by_role("link", name="Clear signing secret…").click()
    expect(page.get_by_role("heading", name="Clear the signing secret of “On Incident”?")) \
        .to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#secret-status")).to_have_text("set")

    page.get_by_role("link", name="Clear signing secret…").click()
    page.get_by_role("button", name="Clear signing secret").click()
    expect(page.get_by_text("Signing secret cleared.")).to_be_visible()
    expect(page.locator("#secret-status")).to_have_text("not set")


def test_the_nav_shows_canvases_on_a_run_page(page: Any) -> None:
    expect = pw_sync.expect
    page.goto("/canvases/by-hand/nodes/Start")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page).to_have_url(re.compile(r"/runs/"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Canvases")).to_have_attribute("aria-current", "page")


def test_no_page_here_broke_the_policy(page: Any, csp_violations: list[str]) -> None:
    assert csp_violations == []
