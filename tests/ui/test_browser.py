"""The whole UI in Debian's chromium against real processes: incidentflow and the
incident.io emulator. Screenshots of each page go to a temporary directory, or to
docs/screenshots/ when INCIDENTFLOW_UPDATE_SCREENSHOTS=1 (tests never modify tracked
files unless asked to).

Scenario: sign in; connect incident.io; apply a canvas with an error, see it at the
node, fix it; open the On Incident panel, copy the URL, register it in the emulator and
set the signing secret; open an incident in the emulator and watch the run finish with
the follow-up incident linked; sign out and be refused.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from browser_support import EMULATOR_KEY, TOKEN, TRIAGE, WAIT_MS, shot
from ui_support import MAJOR

pytestmark = pytest.mark.browser


CANVAS = """\
name: mirror-major-incidents
description: Open a private follow-up for every new major incident.
nodes:
  - name: On Incident
    type: incident.onIncident
  - name: Only majors
    type: filter
    configuration:
      # Skip our own follow-ups, or the canvas would answer itself forever.
      expression: >-
        root.data.incident.severity.name in ['Major', 'Critical']
        and not root.data.incident.name.startswith('[follow-up]')
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "[follow-up] {{ root.data.incident.name }}"
      summary: "Follow-up for {{ root.data.incident.reference }}"
      severityId: SEVERITY
      visibility: private
edges:
  - {from: On Incident, to: Only majors}
  - {from: Only majors, to: Open follow-up}
""".replace("SEVERITY", MAJOR)
BROKEN = CANVAS.replace("severity.name in [", "severity.name in in [")

pw_sync = pytest.importorskip("playwright.sync_api")


def test_the_whole_flow(browser_context: Any, servers: dict[str, str]) -> None:
    expect = pw_sync.expect
    page = browser_context.new_page()

    # Sign in (anything else sends us here first).
    page.goto("/canvases")
    expect(page).to_have_url(f"{servers['base']}/signin?next=%2Fcanvases")
    shot(page, "01-sign-in")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Canvases")).to_be_visible()

    # Connect incident.io (the emulator).
    page.get_by_role("link", name="Integrations").click()
    page.get_by_label("API key").fill(EMULATOR_KEY)
    page.get_by_label("Base URL").fill(servers["emulator"])
    page.get_by_role("button", name="Save and check").click()
    expect(page.locator('[data-integration-status="incident"]')).to_have_text("ready")
    expect(page.get_by_text("Critical").first).to_be_visible()
    assert EMULATOR_KEY not in page.content()
    shot(page, "02-integrations")

    # A canvas with an error: shown at the node and field, node highlighted; then fixed.
    page.goto("/canvases")
    page.get_by_role("link", name="New canvas").click()
    page.get_by_label("Canvas YAML").fill(BROKEN)
    page.get_by_role("button", name="Save canvas").click()
    problem = page.locator(
        '.problem[data-node="Only majors"][data-field="configuration.expression"]')
    expect(problem).to_be_visible()
    expect(page.locator('g.node.has-error[data-node="Only majors"]')).to_have_count(1)
    expect(page.locator("g.node.has-error")).to_have_count(1)
    shot(page, "03-editor-error")
    page.get_by_label("Canvas YAML").fill(CANVAS)
    page.get_by_role("button", name="Save canvas").click()
    expect(page.get_by_text("Canvas saved.")).to_be_visible()
    expect(page.locator("g.node")).to_have_count(3)
    shot(page, "04-canvas")

    # On Incident: copy the URL, register it in "incident.io", set the secret.
    page.locator('a.node-link[aria-label^="On Incident"]').click()
    expect(page.locator("#not-operational")).to_contain_text("Not operational")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    url = page.evaluate("navigator.clipboard.readText()")
    assert url.startswith(f"{servers['base']}/webhooks/")
    shot(page, "05-on-incident-not-operational")
    endpoint = httpx.post(f"{servers['emulator']}/_emulator/webhook-endpoints",
                          json={"url": url}).json()
    page.get_by_label("Signing secret from incident.io").fill(endpoint["secret"])
    page.get_by_role("button", name="Set signing secret").click()
    expect(page.locator("#secret-status")).to_have_text("set")
    expect(page.locator("#not-operational")).to_have_count(0)

    # Someone declares a major incident in incident.io.
    opened = httpx.post(f"{servers['emulator']}/_emulator/incidents",
                        json={"name": "Checkout is down", "severity_id": MAJOR})
    assert opened.status_code == 201, opened.text
    reference = opened.json()["incident"]["reference"]

    page.goto("/canvases/mirror-major-incidents/runs")
    first_run = page.locator("tbody tr").last  # newest first: the oldest is the declared one
    for _ in range(100):  # the delivery is asynchronous: look again until it is recorded
        if page.locator("tbody tr").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    first_run.get_by_role("link").click()
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=WAIT_MS)
    link = page.locator(".incident-link a")
    expect(link).to_contain_text("INC-")
    assert link.get_attribute("href").startswith("http")
    expect(page.get_by_text("[follow-up] Checkout is down").first).to_be_visible()
    assert reference not in link.inner_text()  # the follow-up, not the original
    shot(page, "07-run")
    page.goto("/canvases/mirror-major-incidents/runs")
    shot(page, "06-runs")

    # The panel now counts the accepted delivery.
    page.goto("/canvases/mirror-major-incidents/nodes/On%20Incident")
    expect(page.locator(".counts")).to_contain_text("accepted")
    expect(page.locator("#operational")).to_be_visible()
    shot(page, "08-on-incident-operational")
    page.goto("/canvases/mirror-major-incidents/nodes/Open%20follow-up")
    expect(page.locator("#field-severityId")).to_have_value(MAJOR)
    expect(page.locator("#field-name-preview")).to_contain_text("[follow-up] Our database is sad")
    shot(page, "09-create-incident-panel")

    # Phone-sized screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/canvases/mirror-major-incidents/nodes/On%20Incident")
    shot(page, "10-phone-node-panel")
    page.goto("/canvases")
    shot(page, "11-phone-canvases")
    _no_sideways_scroll(page)
    page.goto("/canvases/mirror-major-incidents")
    _no_sideways_scroll(page)
    shot(page, "14-phone-canvas")
    page.goto("/canvases/mirror-major-incidents/runs")
    page.locator("tbody tr").last.get_by_role("link").click()
    _no_sideways_scroll(page)
    shot(page, "15-phone-run")
    page.set_viewport_size({"width": 1280, "height": 860})

    # A realistic 30-node canvas: readable at 1280 px, labels clear of boxes and each other.
    page.goto("/canvases/new")
    page.get_by_label("Canvas YAML").fill(TRIAGE)
    page.get_by_role("button", name="Save canvas").click()
    expect(page.get_by_text("Canvas saved.")).to_be_visible()
    expect(page.locator("g.node")).to_have_count(30)
    assert _overlaps(page) == []
    shot(page, "12-canvas-30-nodes")
    page.get_by_role("button", name="Fit").click()
    expect(page.locator("[data-zoom-level]")).not_to_have_text("75 %")
    shot(page, "13-canvas-30-nodes-fit", full=False)

    # API tokens: created, shown once; deleting a canvas asks first.
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("ci deploy")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_have_value(re.compile(r"^ift_"))
    shot(page, "16-tokens")
    page.goto("/canvases/major-incident-triage")
    page.get_by_role("link", name="Delete…").click()
    shot(page, "17-delete-canvas-confirm")
    page.get_by_role("button", name="Delete canvas").click()
    expect(page.get_by_text("Canvas deleted.")).to_be_visible()

    # Sign out: pages are refused again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/canvases/mirror-major-incidents")
    expect(page).to_have_url(f"{servers['base']}/signin?next=%2Fcanvases%2Fmirror-major-incidents")
    assert httpx.get(f"{servers['base']}/canvases", follow_redirects=False).status_code == 303


def test_the_ui_works_under_its_content_security_policy(
        browser_context: Any, servers: dict[str, str], csp_violations: list[str]) -> None:
    """Runs after the whole flow above: no page of it broke the policy."""
    assert csp_violations == []
    page = browser_context.new_page()
    answer = page.goto("/signin")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    # The listener does catch a violation: an inline style is refused and reported.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    page.wait_for_timeout(200)
    assert any("style-src" in v for v in csp_violations), csp_violations
    page.close()



def _no_sideways_scroll(page: Any) -> None:
    """On a phone, only wide things scroll inside their own box; the page itself never."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


# Every pair of drawn things that must not overlap: labels with labels and with boxes.
OVERLAPS_JS = """() => {
  const boxes = [...document.querySelectorAll('g.node > rect:first-of-type')]
    .map(e => ['box ' + e.parentNode.dataset.node, e.getBoundingClientRect()]);
  const labels = [...document.querySelectorAll('g.edge-label rect')]
    .map((e, i) => ['label ' + i + ' ' + e.nextElementSibling.textContent,
                    e.getBoundingClientRect()]);
  const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                        a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const found = [];
  const all = boxes.concat(labels);
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++)
      if (hit(all[i][1], all[j][1])) found.push(all[i][0] + ' / ' + all[j][0]);
  const names = [...document.querySelectorAll('g.node')].filter(g =>
    g.querySelector('text.name').getBoundingClientRect().right >
    g.querySelector('rect').getBoundingClientRect().right - 4).map(g => 'name ' + g.dataset.node);
  return found.concat(names);
}"""


def _overlaps(page: Any) -> list[str]:
    return list(page.evaluate(OVERLAPS_JS))
