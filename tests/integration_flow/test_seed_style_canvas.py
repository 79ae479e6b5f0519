"""A canvas written for the seed's system names the integration on both incident.io
nodes; it saves and runs end to end. A wrong name on On Incident is still refused."""

from __future__ import annotations

import json

from flow_support import CREATED, MAJOR, Flow, new_secret

SEED_STYLE = f"""
name: mirror
nodes:
  - name: On Incident
    type: incident.onIncident
    integration: INTEGRATION
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "[follow-up] {{{{ root.data.incident.name }}}}"
      severityId: {MAJOR}
edges:
  - {{from: On Incident, to: Open follow-up}}
"""


def seed_style(integration: str = "incident") -> str:
    return SEED_STYLE.replace("INTEGRATION", integration)


async def test_the_seed_style_canvas_saves_and_runs(flow: Flow) -> None:
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(seed_style())
    assert response.status_code == 200, response.text
    secret = new_secret()
    await flow.set_secret(secret)

    body = json.dumps({"event_type": CREATED,
                       CREATED: {"id": "01FSEED", "name": "Checkout is down"}}).encode()
    assert (await flow.deliver(secret, body)).status_code == 200
    assert await flow.work() == 1  # the action (the trigger runs no execution)
    run = await flow.only_run()
    assert run.state == "succeeded"
    [created] = flow.incidents()
    assert created["name"] == "[follow-up] Checkout is down"


async def test_an_unknown_integration_on_on_incident_is_422(flow: Flow) -> None:
    await flow.connect_integration()
    response = await flow.apply(seed_style("nowhere"))
    assert response.status_code == 422, response.text
    text = response.text
    assert "On Incident" in text and "integration" in text and "nowhere" in text
    assert (await flow.host.canvas_views.list_canvases()) == []
