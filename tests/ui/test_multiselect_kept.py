"""A multiselect whose list cannot load (no integration named) still shows the chosen
values, checked, so saving the node's form keeps them instead of dropping them."""

from __future__ import annotations

import re
from typing import Any

from ui_support import Browser, apply

from incidentflow.canvas import parse_canvas

CANVAS = """
name: filtered
nodes:
  - name: On Incident
    type: incident.onIncident
    configuration:
      events: [public_incident.incident_created_v2]
      severities: [01SEVERITYNOTLISTED]
      statusCategories: [live]
  - {name: Then, type: noop}
edges:
  - {from: On Incident, to: Then}
"""


def checked_values(page: str, field: str) -> list[str]:
    pattern = rf'name="field-{field}" value="([^"]+)" checked'
    return re.findall(pattern, page)


def test_values_the_list_did_not_offer_survive_a_save(with_integration: Browser,
                                                       app: Any) -> None:
    browser = with_integration
    assert apply(browser, CANVAS).status_code == 200
    page = browser.get("/canvases/filtered/nodes/On Incident").text
    assert checked_values(page, "severities") == ["01SEVERITYNOTLISTED"]
    assert "(not in the list)" in page and "Choose an integration for this node first." in page

    form = {"field-events": "public_incident.incident_created_v2",
            "field-severities": "01SEVERITYNOTLISTED", "field-statusCategories": "live",
            "field-modes": ["standard", "retrospective"]}
    answer = browser.submit("/canvases/filtered/nodes/On Incident", form)
    assert answer.status_code == 200, answer.text[:2000]
    record = app.state.host.store.get_canvas("filtered")
    node = parse_canvas(record.source, app.state.host.registry).node("On Incident")
    assert node.configuration["severities"] == ["01SEVERITYNOTLISTED"]
    assert record.version == 1  # the same configuration: nothing was dropped
