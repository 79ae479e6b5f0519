"""Every incident.io action against the emulator: what it sends, what it emits,
incident.io's refusals shown with their message and request id, 5xx/429 retried with
one idempotency key (read back from the emulator's request log), missing permissions."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from emulated_incidentio import NARROW_KEY, Emulated, assert_payload

from incidentflow.emulator import catalog
from incidentflow.errors import PermanentError, RetryableError
from incidentflow.integrations.incidentio import incident_actions
from incidentflow.integrations.incidentio.action import (
    CreateEscalation,
    CreateFollowUp,
    CreateIncident,
    GetIncident,
    ListIncidents,
    ResolveAlert,
    SendAlertEvent,
    UpdateIncident,
)
from incidentflow.integrations.incidentio.client import IncidentIORejected, PermissionMissing

MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"
MONITORING = "01FCNDV6P870EA6S7TK1DSYD5M"
PATH = catalog.default_escalation_paths()[0]["id"]
RAVI = catalog.default_users()[2]
REQUEST_ID = re.compile(r"\[request_id [0-9a-f-]{36}\]")


async def open_incident(emu: Emulated, http: httpx.AsyncClient, key: str = "if-open",
                        **config: Any) -> dict[str, Any]:
    action = CreateIncident(sleep=emu.sleep)
    config = {"name": "Checkout down", "severityId": MAJOR, **config}
    [emission] = await action.execute(emu.context(http, config, idempotency_key=key))
    return emission.event.data


# -- Create Incident (extended) ---------------------------------------------------------


async def test_create_incident_with_type_status_mode_custom_fields_and_lead(emu, http):
    incident = await open_incident(
        emu, http, incidentTypeId="01FH5TZRWMNAFB0DZ23FD1TV97",
        statusId="01FCNDV6P870EA6S7TK1DSYD5H", mode="test",
        customFields={catalog.AFFECTED_TEAM_FIELD: "Payments",
                      catalog.CUSTOMER_IMPACT_FIELD: "cannot pay"},
        roleAssignments={catalog.lead_role()["id"]: RAVI["email"]})
    assert (incident["incident_type"]["name"], incident["incident_status"]["name"],
            incident["mode"]) == ("Security", "Triage", "test")
    values = {e["custom_field"]["name"]: e["values"][0] for e in incident["custom_field_entries"]}
    assert values["Affected Team"]["value_option"]["value"] == "Payments"
    assert values["Customer impact"] == {"value_text": "cannot pay"}
    assert incident["incident_role_assignments"][0]["assignee"]["id"] == RAVI["id"]
    [call] = emu.calls("POST", "/v2/incidents")
    assert call["body"]["custom_field_entries"][0]["values"] == [
        {"value_option_id": catalog.default_custom_field_options()[0]["id"]}]


async def test_create_incident_unknown_option_name_fails_before_creating(emu, http):
    with pytest.raises(PermanentError, match="'Sales' is not an option of 'Affected Team'"):
        await open_incident(emu, http, customFields={catalog.AFFECTED_TEAM_FIELD: "Sales"})
    assert emu.state.incidents == []


async def test_create_incident_response_lost_then_retried_opens_one(emu, http):
    emu.fail_next(502, when="after")  # incident.io opened it; the answer was lost
    incident = await open_incident(emu, http)
    calls = emu.calls("POST", "/v2/incidents")
    assert [c["status"] for c in calls] == [502, 200]
    assert {c["body"]["idempotency_key"] for c in calls} == {"if-open"}
    assert [i["id"] for i in emu.state.incidents] == [incident["id"]]


# -- Get Incident ----------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id", "reference", "number"])
async def test_get_incident_by_id_or_reference(emu, http, by):
    incident = await open_incident(emu, http)
    wanted = {"id": incident["id"], "reference": "INC-1", "number": "1"}[by]
    [emission] = await GetIncident(sleep=emu.sleep).execute(
        emu.context(http, {"incident": wanted}))
    assert emission.event.type == "incident.incident"
    assert emission.event.data == incident


async def test_get_unknown_incident_shows_incident_ios_message_and_request_id(emu, http):
    with pytest.raises(IncidentIORejected) as caught:
        await GetIncident().execute(emu.context(http, {"incident": "INC-99"}))
    assert caught.value.status == 404
    assert "No incident found with id '99'" in str(caught.value)
    assert REQUEST_ID.search(str(caught.value))


async def test_get_incident_retries_5xx_and_429_then_succeeds(emu, http):
    incident = await open_incident(emu, http)
    emu.fail_next(503)
    emu.fail_next(429, retry_after=0)
    [emission] = await GetIncident(sleep=emu.sleep).execute(
        emu.context(http, {"incident": incident["id"]}))
    assert emission.event.data["id"] == incident["id"]
    assert [c["status"] for c in emu.calls("GET", "/v2/incidents/")] == [503, 429, 200]


# -- Update Incident -------------------------------------------------------------------


async def test_update_incident_by_reference_moves_status_and_sends_only_changes(emu, http):
    incident = await open_incident(emu, http)
    config = {"incident": "INC-1", "statusId": MONITORING, "summary": "  ",
              "customFields": {catalog.CUSTOMER_IMPACT_FIELD: "slow"}}
    [emission] = await UpdateIncident(sleep=emu.sleep).execute(emu.context(http, config))
    assert emission.event.type == "incident.incident"
    assert emission.event.data["incident_status"]["name"] == "Monitoring"
    [edit] = emu.calls("POST", f"/v2/incidents/{incident['id']}/actions/edit")
    assert edit["body"] == {"notify_incident_channel": False, "incident": {
        "incident_status_id": MONITORING, "custom_field_entries": [
            {"custom_field_id": catalog.CUSTOMER_IMPACT_FIELD,
             "values": [{"value_text": "slow"}]}]}}


async def test_update_incident_422_carries_the_field_and_request_id(emu, http):
    await open_incident(emu, http)
    with pytest.raises(IncidentIORejected) as caught:
        await UpdateIncident().execute(emu.context(http, {"incident": "1",
                                                         "severityId": "nope"}))
    assert caught.value.status == 422
    assert "severity_id: No severity exists with id 'nope'" in str(caught.value)
    assert REQUEST_ID.search(str(caught.value))


async def test_update_incident_without_the_permission_names_it(emu, http):
    incident = await open_incident(emu, http)
    config = {"incident": incident["id"], "name": "renamed"}
    with pytest.raises(PermissionMissing) as caught:
        await UpdateIncident().execute(emu.context(http, config, key=NARROW_KEY))
    assert '"Edit incidents"' in str(caught.value)
    assert "incidents.edit" in str(caught.value)
    assert REQUEST_ID.search(str(caught.value))


async def test_update_incident_with_nothing_to_change_sends_nothing(emu, http):
    with pytest.raises(PermanentError, match="nothing to change"):
        await UpdateIncident().execute(emu.context(http, {"incident": "x", "name": " "}))
    assert emu.state.requests == []
    [problem] = UpdateIncident().check("Edit", {"incident": "x"})
    assert (problem.node, problem.field) == ("Edit", "name")


# -- List Incidents --------------------------------------------------------------------


async def test_list_incidents_follows_pages_up_to_the_limit(emu, http, monkeypatch):
    monkeypatch.setattr(incident_actions, "PAGE_SIZE", 2)
    for number in range(5):
        await open_incident(emu, http, key=f"k{number}")
    action = ListIncidents(sleep=emu.sleep)
    [emission] = await action.execute(emu.context(http, {"limit": 3}))
    assert emission.event.type == "incident.incidents"
    assert [i["reference"] for i in emission.event.data["incidents"]] == [
        "INC-5", "INC-4", "INC-3"]
    pages = emu.calls("GET", "/v2/incidents")
    assert [("after=" in p["query"], "page_size=2" in p["query"]) for p in pages] == [
        (False, True), (True, False)]  # the second page asks only for the one missing
    [everything] = await action.execute(emu.context(http, {"limit": 100}))
    assert len(everything.event.data["incidents"]) == 5


async def test_list_incidents_filters(emu, http):
    await open_incident(emu, http, key="a")
    await open_incident(emu, http, key="b", severityId="01FCNDV6P870EA6S7TK1DSYDG0")
    config = {"severityId": MAJOR, "statusCategory": "live", "createdAfter": "2000-01-01"}
    [emission] = await ListIncidents().execute(emu.context(http, config))
    assert [i["reference"] for i in emission.event.data["incidents"]] == ["INC-1"]
    [call] = emu.calls("GET", "/v2/incidents")
    assert "status_category%5Bone_of%5D=live" in call["query"]
    [problem] = ListIncidents().check("List", {"limit": 0})
    assert problem.field == "limit"


# -- Create Follow-up ------------------------------------------------------------------


async def test_create_follow_up_by_reference(emu, http):
    incident = await open_incident(emu, http)
    config = {"incident": "INC-1", "title": "Write the post-mortem", "assigneeId": RAVI["id"],
              "priorityId": "01FCNDV6P870EA6S7TK1DSYDP1", "description": ""}
    action = CreateFollowUp(sleep=emu.sleep)
    [emission] = await action.execute(emu.context(http, config))
    follow_up = emission.event.data
    assert emission.event.type == "incident.follow_up"
    assert (follow_up["incident_id"], follow_up["assignee"]["id"]) == (incident["id"], RAVI["id"])
    assert action.created_id(emission.event) == follow_up["id"]
    [call] = emu.calls("POST", "/v2/follow_ups")
    assert "description" not in call["body"]


async def test_create_follow_up_refused_shows_the_reason(emu, http):
    incident = await open_incident(emu, http)
    config = {"incident": incident["id"], "title": "t", "assigneeId": "nobody"}
    with pytest.raises(IncidentIORejected, match=r"assignee_id: No user exists") as caught:
        await CreateFollowUp().execute(emu.context(http, config))
    assert REQUEST_ID.search(str(caught.value))


async def test_create_follow_up_without_the_permission(emu, http):
    incident = await open_incident(emu, http)
    with pytest.raises(PermissionMissing, match="follow_ups.create"):
        await CreateFollowUp().execute(
            emu.context(http, {"incident": incident["id"], "title": "t"}, key=NARROW_KEY))


# -- Create Escalation -----------------------------------------------------------------


async def test_escalation_retried_after_lost_answers_pages_once(emu, http):
    incident = await open_incident(emu, http)
    emu.fail_next(503, when="after")
    emu.fail_next(429, retry_after=0)
    config = {"title": "Checkout down", "escalationPathId": PATH, "incident": incident["id"]}
    action = CreateEscalation(sleep=emu.sleep)
    [emission] = await action.execute(emu.context(http, config))
    escalation = emission.event.data
    assert emission.event.type == "incident.escalation"
    assert escalation["related_incidents"][0]["id"] == incident["id"]
    calls = emu.calls("POST", "/v2/escalations")
    assert [c["status"] for c in calls] == [503, 429, 201]
    assert {c["body"]["idempotency_key"] for c in calls} == {"if-exec-1"}
    assert [e["id"] for e in emu.state.escalations] == [escalation["id"]]


async def test_escalation_retry_by_the_engine_sends_the_same_key(emu, http):
    emu.fail_next(500, count=3)  # every quick retry of the first attempt fails
    action = CreateEscalation(sleep=emu.sleep)
    config = {"title": "t", "userIds": [RAVI["id"]]}
    with pytest.raises(RetryableError):
        await action.execute(emu.context(http, config, attempt=1))
    await action.execute(emu.context(http, config, attempt=2))
    keys = {c["body"]["idempotency_key"] for c in emu.calls("POST", "/v2/escalations")}
    assert keys == {"if-exec-1"} and len(emu.state.escalations) == 1


async def test_escalation_needs_a_path_or_users(emu, http):
    [problem] = CreateEscalation().check("Page", {"title": "t"})
    assert (problem.node, problem.field) == ("Page", "escalationPathId")
    with pytest.raises(PermanentError, match="escalation path or at least one user"):
        await CreateEscalation().execute(emu.context(http, {"title": "t", "userIds": [" "]}))
    assert emu.state.requests == []


async def test_escalation_without_the_permission(emu, http):
    with pytest.raises(PermissionMissing, match="escalations.create"):
        await CreateEscalation().execute(
            emu.context(http, {"title": "t", "escalationPathId": PATH}, key=NARROW_KEY))


# -- Send Alert Event and Resolve Alert -------------------------------------------------


def alert_config(**overrides: Any) -> dict[str, Any]:
    return {"alertSourceConfigId": catalog.ALERT_SOURCE_ID,
            "token": catalog.ALERT_SOURCE_TOKEN,  # what {{ secrets.X }} resolved to
            "title": "CPU high", "deduplicationKey": "cpu-db1", **overrides}


async def test_alert_event_uses_the_source_token_never_the_api_key(emu, http):
    action = SendAlertEvent(sleep=emu.sleep)
    [emission] = await action.execute(emu.context(http, alert_config(metadata={"host": "db1"})))
    assert emission.event.type == "incident.alert_event"
    assert emission.event.data["deduplication_key"] == "cpu-db1"
    assert action.created_id(emission.event) == "cpu-db1"
    [call] = emu.calls("POST", "/v2/alert_events/http/")
    assert call["headers"]["authorization"] == f"Bearer {catalog.ALERT_SOURCE_TOKEN}"
    assert call["body"] == {"title": "CPU high", "status": "firing",
                            "deduplication_key": "cpu-db1", "metadata": {"host": "db1"}}
    [alert] = emu.state.alerts
    await action.execute(emu.context(http, alert_config(status="resolved")))
    assert alert["status"] == "resolved" and len(emu.state.alerts) == 1


async def test_alert_event_key_defaults_to_the_execution_so_retries_raise_one(emu, http):
    emu.fail_next(502, when="after")
    await SendAlertEvent(sleep=emu.sleep).execute(
        emu.context(http, alert_config(deduplicationKey="")))
    assert [a["deduplication_key"] for a in emu.state.alerts] == ["if-exec-1"]


async def test_alert_event_wrong_token_is_a_clear_401(emu, http):
    with pytest.raises(IncidentIORejected, match=r"alert source's token \(401\): The API key "
                       r"provided is not valid") as caught:
        await SendAlertEvent().execute(emu.context(http, alert_config(token="wrong")))
    assert REQUEST_ID.search(str(caught.value))


@pytest.mark.parametrize("token", ["inc_live_literal", "{{ secrets.A }} and more",
                                   "{{ root.data.token }}"])
def test_a_token_that_is_not_one_secret_reference_is_refused_at_save(token):
    [problem] = SendAlertEvent().check("Alert", alert_config(token=token))
    assert (problem.node, problem.field) == ("Alert", "token")
    assert "secret reference" in problem.message


@pytest.mark.parametrize("token", ["{{ secrets.ALERT_TOKEN }}", "{{secrets['A_1']}}"])
def test_secret_references_are_accepted(token):
    assert SendAlertEvent().check("Alert", alert_config(token=token)) == []


async def test_resolve_alert(emu, http):
    await SendAlertEvent().execute(emu.context(http, alert_config()))
    [alert] = emu.state.alerts
    [emission] = await ResolveAlert(sleep=emu.sleep).execute(
        emu.context(http, {"alert": alert["id"]}))
    assert (emission.event.type, emission.event.data["status"]) == ("incident.alert",
                                                                    "resolved")
    with pytest.raises(PermissionMissing, match="alerts.resolve"):
        await ResolveAlert().execute(emu.context(http, {"alert": alert["id"]}, key=NARROW_KEY))
    with pytest.raises(IncidentIORejected, match="No alert found"):
        await ResolveAlert().execute(emu.context(http, {"alert": "nope"}))


async def test_ids_cannot_reach_another_endpoint(emu, http):
    with pytest.raises(PermanentError, match="not an incident.io id"):
        await ResolveAlert().execute(emu.context(http, {"alert": "../incidents"}))
    assert emu.state.requests == []


# -- every action: retried through 5xx/429, refused without the permission -------------

VIEW_ONLY = "severities-only"


async def _prepared(emu: Emulated, http: httpx.AsyncClient) -> dict[str, Any]:
    """An incident and a firing alert to act on; the request log cleared after."""
    incident = await open_incident(emu, http, key="setup")
    await SendAlertEvent().execute(emu.context(http, alert_config(), idempotency_key="setup"))
    emu.state.requests.clear()
    return {"incident": incident["id"], "alert": emu.state.alerts[0]["id"]}


CASES = {
    "create": (CreateIncident, lambda ids: {"name": "n", "severityId": MAJOR},
               "POST", "/v2/incidents"),
    "get": (GetIncident, lambda ids: {"incident": ids["incident"]}, "GET", "/v2/incidents/"),
    "update": (UpdateIncident, lambda ids: {"incident": ids["incident"], "name": "n"},
               "POST", "/v2/incidents/"),
    "list": (ListIncidents, lambda ids: {"limit": 5}, "GET", "/v2/incidents"),
    "follow-up": (CreateFollowUp, lambda ids: {"incident": ids["incident"], "title": "t"},
                  "POST", "/v2/follow_ups"),
    "escalation": (CreateEscalation, lambda ids: {"title": "t", "escalationPathId": PATH},
                   "POST", "/v2/escalations"),
    "alert event": (SendAlertEvent, lambda ids: alert_config(), "POST", "/v2/alert_events/"),
    "resolve": (ResolveAlert, lambda ids: {"alert": ids["alert"]}, "POST", "/v2/alerts/"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("status", [500, 503, 429])
async def test_every_action_is_retried_through_5xx_and_429(emu, http, case, status):
    action_class, config, method, path = CASES[case]
    ids = await _prepared(emu, http)
    emu.fail_next(status, count=2, retry_after=0 if status == 429 else None)
    [emission] = await action_class(sleep=emu.sleep).execute(emu.context(http, config(ids)))
    assert emission.event.data
    calls = emu.calls(method, path)
    assert [c["status"] for c in calls][:2] == [status, status]
    keys = {(c["body"] or {}).get("idempotency_key") for c in calls}
    assert len(keys) == 1  # one key (or none, where the endpoint takes none) on every try


@pytest.mark.parametrize("case", [c for c in CASES if c != "alert event"])
async def test_every_action_without_its_permission_is_refused_with_the_reason(
        emu, http, case):
    # A key that can only list severities (the alert event takes no API key at all).
    emu.app.state.api_keys = {**emu.app.state.api_keys, VIEW_ONLY: frozenset(
        {"severities.view"})}
    action_class, config, _, _ = CASES[case]
    ids = await _prepared(emu, http)
    with pytest.raises(PermissionMissing) as caught:
        await action_class().execute(emu.context(http, config(ids), key=VIEW_ONLY))
    assert "missing the" in str(caught.value) and REQUEST_ID.search(str(caught.value))


async def test_list_incidents_bad_date_is_incident_ios_422(emu, http):
    with pytest.raises(IncidentIORejected, match=r"created_at\[gte\]: created_at takes a date"):
        await ListIncidents().execute(emu.context(http, {"createdAfter": "yesterday"}))


async def test_create_incident_unknown_status_at_run_time_is_incident_ios_422(emu, http):
    with pytest.raises(IncidentIORejected, match="incident_status_id: No incident status"):
        await open_incident(emu, http, statusId="{{ resolved to nothing known }}")


# -- what the actions send is what incident.io's document describes -------------------

def payload_schema(call: dict[str, Any]) -> str | None:
    """The name of incident.io's payload schema for a recorded POST, if it has a body."""
    path = call["path"]
    if call["method"] != "POST":
        return None
    if path.endswith("/actions/edit"):
        return "IncidentsEditPayloadV2"
    if path.startswith("/v2/alert_events/http/"):
        return "AlertEventsCreateHTTPPayloadV2"
    return {"/v2/incidents": "IncidentsCreatePayloadV2",
            "/v2/follow_ups": "FollowUpsCreatePayloadV2",
            "/v2/escalations": "EscalationsCreatePayloadV2"}.get(path)


def test_the_payload_check_catches_a_property_the_document_lacks():
    with pytest.raises(AssertionError, match="severity"):
        assert_payload({"idempotency_key": "k", "visibility": "public", "severity": "x"},
                       "IncidentsCreatePayloadV2")


async def test_every_request_body_matches_incident_ios_payload_schemas(emu, http):
    incident = await open_incident(
        emu, http, summary="s", incidentTypeId="01FH5TZRWMNAFB0DZ23FD1TV96",
        statusId="01FCNDV6P870EA6S7TK1DSYD5H", mode="retrospective",
        customFields={catalog.AFFECTED_TEAM_FIELD: ["Payments"]},
        roleAssignments={catalog.lead_role()["id"]: RAVI["id"]})
    ids = {"incident": incident["id"]}
    await UpdateIncident().execute(emu.context(http, {
        "incident": "INC-1", "name": "n", "summary": "s", "severityId": MAJOR,
        "statusId": MONITORING, "notifyIncidentChannel": True,
        "customFields": {catalog.CUSTOMER_IMPACT_FIELD: "slow"}}))
    await CreateFollowUp().execute(emu.context(http, {
        **ids, "title": "t", "description": "d", "assigneeId": RAVI["id"],
        "priorityId": "01FCNDV6P870EA6S7TK1DSYDP0"}))
    await CreateEscalation().execute(emu.context(http, {
        **ids, "title": "t", "description": "d", "escalationPathId": PATH,
        "userIds": [RAVI["id"]]}))
    await SendAlertEvent().execute(emu.context(http, alert_config(
        description="d", sourceUrl="https://monitoring.example/a/1", metadata={"a": [1]})))
    bodies = [(payload_schema(c), c["body"]) for c in emu.state.requests]
    checked = [(schema, body) for schema, body in bodies if schema is not None]
    for schema, body in checked:
        assert_payload(body, schema)
    assert len(checked) == 5
