"""On Incident's node panel shows its catch-up poll: not yet, then the last poll."""

from __future__ import annotations

import asyncio
from typing import Any

from ui_support import Browser, apply

from incidentflow.engine.catch_up import CatchUpPoller
from incidentflow.events import utcnow

CANVAS = """
name: caught
nodes:
  - name: On Incident
    type: incident.onIncident
    integration: incident
    configuration:
      events: [public_incident.incident_created_v2]
      catchUp: {enabled: true, everyMinutes: 3}
  - {name: Then, type: noop}
edges:
  - {from: On Incident, to: Then}
"""


def test_the_panel_shows_the_last_poll(with_integration: Browser, app: Any) -> None:
    browser = with_integration
    assert apply(browser, CANVAS).status_code == 200
    panel = browser.get("/canvases/caught/nodes/On Incident").text
    assert 'id="catch-up-last"' in panel and "every 3 min" in panel
    assert "<strong>not yet</strong>" in panel

    host = app.state.host
    poller = CatchUpPoller(host.store, host.box, host.http, utcnow)
    asyncio.run(poller.tick())
    panel = browser.get("/canvases/caught/nodes/On Incident").text
    assert "not yet" not in panel and "found <strong>0</strong>" in panel
