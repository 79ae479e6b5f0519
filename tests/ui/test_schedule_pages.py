"""The schedule trigger's node panel: its next three times and its last skip."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from ui_support import Browser, apply

from incidentflow.engine.scheduler import Scheduler
from incidentflow.events import utcnow

SCHEDULED = """
name: hourly
nodes:
  - {name: Every hour, type: schedule, configuration: {cron: "0 * * * *", timezone: UTC}}
  - {name: Then, type: noop}
edges:
  - {from: Every hour, to: Then}
"""


def test_the_panel_shows_the_next_three_times_then_the_last_skip(browser: Browser,
                                                                   app: Any) -> None:
    assert apply(browser, SCHEDULED).status_code == 200
    panel = browser.get("/canvases/hourly/nodes/Every hour").text
    section = panel.split('id="schedule-next"')[1].split("</ul>")[0]
    assert section.count("<li") == 3 and ":00:00" in section
    assert 'id="schedule-last"' in panel and "nothing yet" in panel

    # Everything was down for the next hour's time: skipped (catchUpMinutes 0).
    now = utcnow()
    late = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, minutes=5)
    asyncio.run(Scheduler(app.state.host.store, lambda: late).tick())
    panel = browser.get("/canvases/hourly/nodes/Every hour").text
    assert "Last: <strong>skipped</strong>" in panel
