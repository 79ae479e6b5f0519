"""The waiting-for-you page, the run page's waiting panel, deciding and cancelling from
the UI (a browser-like client posting the forms with their CSRF token)."""

from __future__ import annotations

import asyncio
from typing import Any

from test_accessibility import problems
from ui_support import Browser

from incidentflow.crypto import SecretBox
from incidentflow.engine.worker import Worker

CANVAS = """
name: publish
nodes:
  - {name: Start, type: start}
  - name: Ask
    type: approval
    configuration: {message: "Publish the status page?", approvers: APPROVERS}
  - {name: Yes, type: noop}
edges:
  - {from: Start, to: Ask}
  - {from: Ask, to: Yes, channel: approved}
"""


def waiting_run(app: Any, store: Any, test_registry: Any, settings: Any,
                emulator_http: Any, browser: Browser, approvers: str = "[]") -> tuple[str, Worker]:
    browser.client.put("/api/v1/canvases/publish", content=CANVAS.replace("APPROVERS", approvers),
                       headers={"Content-Type": "application/yaml",
                                "Authorization": f"Bearer {settings.admin_token}"})
    run_id = browser.client.post("/api/v1/canvases/publish/nodes/Start/run", json={},
                                 headers={"Authorization": f"Bearer {settings.admin_token}"}
                                 ).json()["runId"]
    worker = Worker(store, test_registry, SecretBox(settings.secret_key), emulator_http, settings)
    asyncio.run(worker.drain())
    return run_id, worker


def test_waiting_for_you_lists_the_approval_and_approve_runs_it_on(
        app, store, test_registry, settings, emulator_http, browser: Browser) -> None:
    run_id, worker = waiting_run(app, store, test_registry, settings, emulator_http, browser)
    page = browser.get("/approvals")
    assert page.status_code == 200
    assert "Publish the status page?" in page.text and run_id[:12] in page.text
    done = browser.submit(f"/runs/{run_id}/approvals/Ask",
                          {"decision": "approve", "comment": "fine", "back": "approvals"})
    assert done.status_code == 200
    assert "Approved. The run goes on" in done.text
    assert "Nothing is waiting for you." in done.text
    asyncio.run(worker.drain())
    run = store.get_run(run_id)
    assert run.state == "succeeded"
    ask = next(e for e in run.executions if e.node == "Ask")
    assert ask.emitted[0]["event"]["data"]["by"] == "admin"
    assert ask.emitted[0]["event"]["data"]["comment"] == "fine"


def test_the_run_page_shows_what_it_waits_for_and_refuses_a_second_decision(
        app, store, test_registry, settings, emulator_http, browser: Browser) -> None:
    run_id, _ = waiting_run(app, store, test_registry, settings, emulator_http, browser)
    page = browser.get(f"/runs/{run_id}")
    assert "Waiting for" in page.text
    assert "approval: Publish the status page?" in page.text and "no timeout" in page.text
    assert "Anyone signed in may decide." in page.text
    first = browser.submit(f"/runs/{run_id}/approvals/Ask", {"decision": "reject"})
    assert "Rejected. The run goes on" in first.text
    browser.get(f"/runs/{run_id}")  # a stale page's form, posted again
    again = browser.submit(f"/runs/{run_id}/approvals/Ask", {"decision": "approve"})
    assert again.status_code == 409
    assert "already decided: rejected by admin" in again.text


def test_not_an_approver_sees_no_buttons_and_is_refused(
        app, store, test_registry, settings, emulator_http, browser: Browser) -> None:
    run_id, _ = waiting_run(app, store, test_registry, settings, emulator_http, browser,
                            approvers='["lead"]')
    page = browser.get(f"/runs/{run_id}")
    assert "Approvers: lead" in page.text and "You are not one of its approvers." in page.text
    assert "Nothing is waiting for you." in browser.get("/approvals").text
    refused = browser.submit(f"/runs/{run_id}/approvals/Ask", {"decision": "approve"})
    assert refused.status_code == 403 and "not one of the approvers" in refused.text


def test_cancel_from_the_run_page(app, store, test_registry, settings, emulator_http,
                                  browser: Browser) -> None:
    run_id, worker = waiting_run(app, store, test_registry, settings, emulator_http, browser)
    browser.get(f"/runs/{run_id}")
    cancelled = browser.submit(f"/runs/{run_id}/cancel", {})
    assert cancelled.status_code == 200
    assert "Run cancelled." in cancelled.text and "Cancel run" not in cancelled.text
    assert store.get_run(run_id).state == "cancelled"
    assert asyncio.run(worker.drain()) == 0


def test_the_new_pages_are_labelled_and_well_structured(
        app, store, test_registry, settings, emulator_http, browser: Browser) -> None:
    run_id, _ = waiting_run(app, store, test_registry, settings, emulator_http, browser)
    for path in ("/approvals", f"/runs/{run_id}"):
        answer = browser.get(path)
        assert answer.status_code == 200, path
        assert 'name="comment"' in answer.text, path
        assert problems(answer.text) == [], path
