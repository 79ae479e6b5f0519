"""The shipped example canvas (the one `incidentflow demo` applies) against real-shaped
incidents, including one declared without the optional summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flow_support import CREATED, MAJOR, Flow, new_secret

import incidentflow

EXAMPLE = Path(incidentflow.__file__).parent / "examples" / "mirror-major-incidents.yaml"
DATA = Path(__file__).parents[1] / "data" / "incidentio-webhook-examples"


def example_canvas() -> str:
    # The flow helpers address the canvas as "mirror"; the rest is the file as shipped.
    text = EXAMPLE.read_text()
    assert "name: mirror-major-incidents\n" in text and "SEVERITY_ID" in text
    return text.replace("name: mirror-major-incidents\n", "name: mirror\n").replace(
        "SEVERITY_ID", MAJOR)


def major_incident(**changes: Any) -> dict[str, Any]:
    incident = json.loads((DATA / f"{CREATED}.json").read_bytes())[CREATED]
    incident = {**incident, "name": "Checkout is down",
                "severity": {**incident["severity"], "id": MAJOR, "name": "Major"}}
    return {**incident, **changes}


async def deliver_to_example(flow: Flow, incident: dict[str, Any]) -> Any:
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(example_canvas())
    assert response.status_code == 200, response.text
    secret = new_secret()
    await flow.set_secret(secret)
    body = json.dumps({"event_type": CREATED, CREATED: incident}).encode()
    assert (await flow.deliver(secret, body)).status_code == 200
    await flow.work()
    return await flow.only_run()


async def test_an_incident_without_a_summary_still_opens_the_follow_up(flow: Flow) -> None:
    incident = major_incident()
    del incident["summary"]
    run = await deliver_to_example(flow, incident)
    assert run.state == "succeeded", [e.error for e in run.executions]
    [follow_up] = flow.incidents()
    assert follow_up["name"] == "[follow-up] Checkout is down"
    assert follow_up["summary"] == (
        f"Follow-up for {incident['reference']}: no summary given")


async def test_a_null_summary_is_treated_as_none_given(flow: Flow) -> None:
    run = await deliver_to_example(flow, major_incident(summary=None))
    assert run.state == "succeeded", [e.error for e in run.executions]
    [follow_up] = flow.incidents()
    assert follow_up["summary"].endswith(": no summary given")


async def test_a_summary_is_carried_into_the_follow_up(flow: Flow) -> None:
    incident = major_incident(summary="Error rate above 20%.")
    await deliver_to_example(flow, incident)
    [follow_up] = flow.incidents()
    assert follow_up["summary"] == (
        f"Follow-up for {incident['reference']}: Error rate above 20%.")


async def test_an_incident_without_a_severity_is_filtered_not_failed(flow: Flow) -> None:
    """``severity`` is optional in incident.io's schema: the filter guards it."""
    incident = major_incident()
    del incident["severity"]
    run = await deliver_to_example(flow, incident)
    assert run.state == "succeeded", [e.error for e in run.executions]
    assert flow.incidents() == []
