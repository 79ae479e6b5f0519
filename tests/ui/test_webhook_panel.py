"""The node panel of a webhook trigger speaks for the trigger: its secret field is
labelled and explained by the trigger's own secret hook, and the delivery log shows each
rejection's code."""

from __future__ import annotations

import html

from ui_support import Browser, apply

CANVAS = """
name: inbound
nodes:
  - {name: Alert, type: webhook, configuration: {verification: bearer}}
  - {name: Done, type: noop}
edges:
  - {from: Alert, to: Done}
"""
SHARED = "a-secret-shared-with-the-sender"


def test_the_secret_field_is_the_triggers_own(browser: Browser) -> None:
    assert apply(browser, CANVAS).status_code == 200
    panel = browser.get("/canvases/inbound/nodes/Alert").text
    assert "Secret shared with the sender" in panel and "at least 16" in panel
    assert "Set up in incident.io" not in panel and "whsec_…" not in panel

    refused = browser.submit("/canvases/inbound/nodes/Alert/secret",
                             {"secret": "short", "action": "set"})
    assert refused.status_code == 422
    assert "at least 16 printable ASCII characters" in html.unescape(refused.text)


def test_the_delivery_log_shows_the_rejection_code(browser: Browser) -> None:
    assert apply(browser, CANVAS).status_code == 200
    browser.get("/canvases/inbound/nodes/Alert")
    browser.submit("/canvases/inbound/nodes/Alert/secret", {"secret": SHARED, "action": "set"})
    answer = browser.client.get("/api/v1/canvases/inbound", headers={
        "Authorization": f"Bearer {browser.client.app.state.settings.admin_token}"})
    url = answer.json()["nodes"][0]["live"]["webhookUrl"]
    path = "/webhooks/" + url.rsplit("/", 1)[1]
    assert browser.client.post(path, content=b"{}", headers={
        "authorization": "Bearer not-it"}).status_code == 403
    assert browser.client.post(path, content=b"{}", headers={
        "authorization": f"Bearer {SHARED}"}).json() == {"status": "accepted"}
    panel = browser.get("/canvases/inbound/nodes/Alert").text
    assert 'title="rejection code">bad_signature</span>' in panel
    assert "the bearer secret does not match" in panel
