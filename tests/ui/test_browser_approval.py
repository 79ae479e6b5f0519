"""Approvals in Debian's chromium against a real ``incidentflow serve``: the
waiting-for-you list shows the approval; the Approve button on the run page sends the
run on by its approved channel; Cancel run ends another waiting run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from browser_support import TOKEN, shot
from helpers import wait_until

pytestmark = pytest.mark.browser
pw_sync = pytest.importorskip("playwright.sync_api")

CANVAS = """\
name: go-public
nodes:
  - {name: Start, type: start}
  - name: Ask the lead
    type: approval
    configuration:
      message: "Publish the status page for {{ root.data.service }}?"
      timeoutSeconds: 3600
  - {name: Publish, type: noop}
  - {name: Keep private, type: noop}
edges:
  - {from: Start, to: Ask the lead}
  - {from: Ask the lead, to: Publish, channel: approved}
  - {from: Ask the lead, to: Keep private, channel: rejected}
"""


def test_waiting_for_you_then_approve_on_the_run_page(browser_context: Any,
                                                      servers: dict[str, str],
                                                      csp_violations: list[str]) -> None:
    expect = pw_sync.expect
    api = httpx.Client(base_url=servers["base"], timeout=10,
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.put("/api/v1/canvases/go-public", content=CANVAS,
                   headers={"Content-Type": "application/yaml"}).status_code == 200

    def waiting_run(service: str) -> str:
        run_id = str(api.post("/api/v1/canvases/go-public/nodes/Start/run",
                              json={"service": service}).json()["runId"])
        wait_until(lambda: api.get(f"/api/v1/runs/{run_id}").json()["waitingFor"], 10,
                   what="the approval to wait")
        return run_id

    run_id = waiting_run("checkout")
    other_id = waiting_run("search")

    page = browser_context.new_page()
    page.goto("/signin?next=/approvals")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    expect(page.get_by_text("Publish the status page for checkout?")).to_be_visible()
    expect(page.get_by_text("Publish the status page for search?")).to_be_visible()
    shot(page, "30-waiting-for-you")

    page.goto(f"/runs/{run_id}")
    panel = page.locator("#waiting")
    expect(panel).to_contain_text("approval: Publish the status page for checkout?")
    expect(panel).to_contain_text("until")
    shot(page, "31-run-waiting-for-approval")
    panel.get_by_label("Comment").fill("customers are affected")
    panel.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved. The run goes on")).to_be_visible()
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=10_000)
    run = api.get(f"/api/v1/runs/{run_id}").json()
    nodes = {e["node"]: e for e in run["executions"]}
    assert set(nodes) == {"Ask the lead", "Publish"}
    data = nodes["Ask the lead"]["emitted"][0]["event"]["data"]
    assert (data["decision"], data["by"], data["comment"]) == (
        "approved", "admin", "customers are affected")

    page.goto(f"/runs/{other_id}")
    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_text("Run cancelled.")).to_be_visible()
    expect(page.locator("#run-state")).to_have_text("cancelled")
    page.goto("/approvals")
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
    assert not csp_violations
