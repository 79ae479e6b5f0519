"""The incident.io actions inside the engine (SQLite and PostgreSQL): one run through
the incident's life, the organisation's values checked at save through one short-lived
cache, and the resources API the pickers use."""

from __future__ import annotations

from typing import Any

from flow_support import MAJOR, Flow

from incidentflow.emulator import catalog

PATH = catalog.default_escalation_paths()[0]["id"]
MONITORING = "01FCNDV6P870EA6S7TK1DSYD5M"


def create_node(name: str) -> str:
    return f"""
  - name: {name}
    type: incident.createIncident
    integration: incident
    configuration: {{name: "{name}", severityId: {MAJOR}}}"""


def canvas(nodes: str, edges: list[tuple[str, str]]) -> str:
    lines = "".join(f"\n  - {{from: {a}, to: {b}}}" for a, b in edges)
    return f"""
name: mirror
nodes:
  - name: Start
    type: start{nodes}
edges:{lines}
"""


def severity_calls(flow: Flow) -> list[dict[str, Any]]:
    return [r for r in flow.emulator_state.requests if r["path"] == "/v1/severities"]


async def test_saving_six_create_incident_nodes_asks_for_severities_once(flow: Flow) -> None:
    await flow.connect_integration()
    flow.emulator_state.requests.clear()
    names = [f"Open{n}" for n in range(6)]
    text = canvas("".join(create_node(n) for n in names), [("Start", n) for n in names])
    response = await flow.apply(text)
    assert response.status_code == 200, response.text
    assert len(severity_calls(flow)) == 1
    assert (await flow.apply(text)).status_code == 200  # saved again at once: still cached
    assert len(severity_calls(flow)) == 1


async def test_an_unknown_status_is_refused_at_save_naming_node_and_field(flow: Flow) -> None:
    await flow.connect_integration()
    node = """
  - name: Monitor
    type: incident.updateIncident
    integration: incident
    configuration: {incident: "INC-1", statusId: nope}"""
    response = await flow.apply(canvas(node, [("Start", "Monitor")]))
    assert response.status_code == 422, response.text
    [problem] = [p for p in response.json()["problems"] if p.get("node") == "Monitor"]
    assert problem["field"] == "configuration.statusId"
    assert "incident status 'nope' does not exist in incident.io" in problem["message"]


async def test_the_resources_api_lists_every_type_and_searches_users(flow: Flow) -> None:
    await flow.connect_integration()
    url = "/api/v1/integrations/incident/resources"
    users = (await flow.web.get(url, params={"type": "user", "query": "ravi"})).json()
    assert [u["name"] for u in users["resources"]] == ["Ravi Oncall"]
    fields = (await flow.web.get(url, params={"type": "custom_field"})).json()["resources"]
    assert [o["name"] for o in fields[0]["options"]] == ["Payments", "Platform"]
    unknown = await flow.web.get(url, params={"type": "team"})
    assert unknown.status_code == 422 and "alert_source" in unknown.text


LIFECYCLE = """
  - name: Open
    type: incident.createIncident
    integration: incident
    configuration:
      name: "{{ root.data.what }}"
      severityId: MAJOR
      customFields: {TEAM: "{{ root.data.team }}"}
  - name: Page
    type: incident.createEscalation
    integration: incident
    configuration:
      title: "Paging for {{ nodes['Open'].data.reference }}"
      escalationPathId: PATH
      incident: "{{ nodes['Open'].data.id }}"
  - name: Follow up
    type: incident.createFollowUp
    integration: incident
    configuration:
      incident: "{{ nodes['Open'].data.reference }}"
      title: Write the post-mortem
  - name: Monitor
    type: incident.updateIncident
    integration: incident
    configuration: {incident: "{{ nodes['Open'].data.id }}", statusId: MONITORING}
  - name: Fetch
    type: incident.getIncident
    integration: incident
    configuration: {incident: "{{ nodes['Open'].data.reference }}"}
  - name: Live ones
    type: incident.listIncidents
    integration: incident
    configuration: {statusCategory: live, limit: 10}"""


async def test_one_run_through_the_incident_life(flow: Flow) -> None:
    await flow.connect_integration()
    nodes = (LIFECYCLE.replace("MAJOR", MAJOR).replace("PATH", PATH)
             .replace("MONITORING", MONITORING).replace("TEAM", catalog.AFFECTED_TEAM_FIELD))
    order = ["Start", "Open", "Page", "Follow up", "Monitor", "Fetch", "Live ones"]
    response = await flow.apply(canvas(nodes, list(zip(order, order[1:], strict=False))))
    assert response.status_code == 200, response.text
    await flow.host.canvases.run_manual("mirror", "Start",
                                        {"what": "Checkout down", "team": "Payments"})
    await flow.work()
    run = await flow.only_run()
    assert run.state == "succeeded", [(e.node, e.state, e.error) for e in run.executions]
    emitted = {e.node: e.emitted[0]["event"] for e in run.executions if e.emitted}
    [incident] = flow.incidents()
    assert emitted["Open"]["data"]["custom_field_entries"][0]["values"][0][
        "value_option"]["value"] == "Payments"
    page = next(e for e in run.executions if e.node == "Page")
    [escalation] = flow.emulator_state.escalations
    assert flow.emulator_state.escalation_keys == {page.idempotency_key: escalation["id"]}
    assert emitted["Page"] == {**emitted["Page"], "type": "incident.escalation"}
    assert flow.emulator_state.follow_ups[0]["incident_id"] == incident["id"]
    assert emitted["Follow up"]["type"] == "incident.follow_up"
    assert emitted["Monitor"]["data"]["incident_status"]["name"] == "Monitoring"
    assert emitted["Fetch"]["data"]["incident_status"]["name"] == "Monitoring"
    assert [i["id"] for i in emitted["Live ones"]["data"]["incidents"]] == [incident["id"]]


LIMITED = f"""
  - name: Open
    type: incident.createIncident
    integration: incident
    configuration: {{name: "run {{{{ root.data.n }}}}", severityId: {MAJOR}}}
  - name: File
    type: incident.createFollowUp
    integration: incident
    rateLimit: {{max: 1, per: 600}}
    configuration: {{incident: "{{{{ nodes['Open'].data.id }}}}", title: Post-mortem}}
  - name: Page
    type: incident.createEscalation
    integration: incident
    rateLimit: {{max: 1, per: 600}}
    configuration: {{title: "run {{{{ root.data.n }}}}", escalationPathId: {PATH}}}
  - name: Raise
    type: incident.sendAlertEvent
    integration: incident
    rateLimit: {{max: 1, per: 600}}
    configuration:
      alertSourceConfigId: {catalog.ALERT_SOURCE_ID}
      token: "{{{{ secrets.ALERT_TOKEN }}}}"
      title: "run {{{{ root.data.n }}}}"
"""


async def test_follow_ups_escalations_and_alert_events_are_rate_limited(flow: Flow) -> None:
    await flow.connect_integration()
    secret = await flow.web.put("/api/v1/secrets/ALERT_TOKEN",
                                json={"value": catalog.ALERT_SOURCE_TOKEN})
    assert secret.status_code == 200, secret.text
    edges = [("Start", "Open"), ("Open", "File"), ("Start", "Page"), ("Start", "Raise")]
    response = await flow.apply(canvas(LIMITED, edges))
    assert response.status_code == 200, response.text
    for n in (1, 2):
        await flow.host.canvases.run_manual("mirror", "Start", {"n": n})
        await flow.work()
    state = flow.emulator_state
    assert (len(state.follow_ups), len(state.escalations), len(state.alerts)) == (1, 1, 1)
    view = (await flow.web.get("/api/v1/canvases/mirror")).json()
    assert {t["node"] for t in view["trippedNodes"]} == {"File", "Page", "Raise"}
    runs = [await flow.host.canvases.get_run(r.id) for r in await flow.runs()]
    held = sorted(e.node for run in runs for e in run.executions if e.state == "held")
    assert held == ["File", "Page", "Raise"]
