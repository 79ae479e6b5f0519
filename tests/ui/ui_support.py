"""Helpers shared by the UI tests (imported as ``ui_support``)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.testclient import TestClient

from incidentflow.crypto import SecretBox
from incidentflow.engine.worker import Worker

ADMIN_TOKEN = "ifa_ui_test_" + "B" * 30
EMULATOR_KEY = "emulator-ui-key"
EMULATOR_URL = "http://emulator.test"
PUBLIC_URL = "https://flows.example.com"
MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"  # a severity the emulator knows

MIRROR = """\
name: mirror
nodes:
  - name: On Incident
    type: incident.onIncident
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "[follow-up] {{ root.data.incident.name }}"
      severityId: SEVERITY
      visibility: private
edges:
  - {from: On Incident, to: Open follow-up}
""".replace("SEVERITY", MAJOR)

MANUAL = """\
name: manual
nodes:
  - {name: Start, type: start}
  - name: Open
    type: incident.createIncident
    integration: incident
    configuration:
      name: "Manual: {{ root.data.title }}"
      severityId: SEVERITY
edges:
  - {from: Start, to: Open}
""".replace("SEVERITY", MAJOR)

# Manual runs of a Create Incident limited to 1 per 10 minutes; an On Incident in the
# same canvas makes it able to feed itself (the warning's case).
RATE_LIMITED_LOOP = """\
name: loop
nodes:
  - {name: Start, type: start}
  - {name: On Incident, type: incident.onIncident}
  - name: Create
    type: incident.createIncident
    integration: incident
    rateLimit: {max: 1, per: 600}
    configuration: {name: "From a UI test", severityId: SEVERITY}
edges:
  - {from: Start, to: Create}
""".replace("SEVERITY", MAJOR)


class Browser:
    """A TestClient that behaves like a person with a browser: reads the CSRF token
    from the page it is on and posts forms with it."""

    def __init__(self, client: TestClient):
        self.client = client
        self.page = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, **kwargs)
        self.page = response.text
        return response

    def submit(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        token = csrf_of(self.page)
        response = self.client.post(path, data={"csrf_token": token, **data}, **kwargs)
        self.page = response.text
        return response

    def sign_in(self, token: str = ADMIN_TOKEN) -> httpx.Response:
        self.get("/signin")
        return self.submit("/signin", {"token": token, "next": "/canvases"})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def apply(browser: Browser, source: str) -> httpx.Response:
    """Save ``source`` as the YAML editor does: a new canvas, or a new version of the
    canvas it names (as "Edit YAML" would; a new canvas may not take a used name)."""
    browser.get("/canvases/new")
    found = re.search(r"^name: *(.+?) *$", source, re.MULTILINE)
    editing = {"editing": found.group(1)} if found else {}
    return browser.submit("/canvases", {"source": source, **editing})


def drain(browser: Browser, app: Any) -> int:
    """Run every queued execution now, as a worker would."""
    host = app.state.host
    worker = Worker(host.store, host.registry, SecretBox(host.settings.secret_key), host.http,
                    host.settings)
    portal = browser.client.portal
    assert portal is not None
    return portal.call(worker.drain)
