"""The emulated endpoints behind every incident.io action: follow-ups, escalations,
alert events and alerts, edits that change status, and the organisation's lists. Each
answer is checked against incident.io's OpenAPI schemas; each published webhook too."""

from __future__ import annotations

import json

import pytest
from emulator_support import AUTH, MAJOR, Receiver, assert_error, assert_schema, new_incident
from starlette.testclient import TestClient

from incidentflow.emulator import catalog, create_emulator_app

TOKEN = {"Authorization": f"Bearer {catalog.ALERT_SOURCE_TOKEN}"}
ALERTS = f"/v2/alert_events/http/{catalog.ALERT_SOURCE_ID}"
PATH = catalog.default_escalation_paths()[0]["id"]
RAVI = catalog.default_users()[2]["id"]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def published(client: TestClient, receiver: Receiver) -> list[dict]:
    """Every webhook payload sent so far, once each has been delivered."""
    body = client.post("/_emulator/deliveries/drain?timeout=5").json()
    assert body["settled"]
    return [json.loads(d["payload"]) for d in body["deliveries"]]


@pytest.fixture
def subscribed(client: TestClient, receiver: Receiver) -> Receiver:
    response = client.post("/_emulator/webhook-endpoints",
                           json={"url": receiver.url, "secret": SECRET})
    assert response.status_code == 201
    return receiver


# -- the organisation's lists -----------------------------------------------------------


@pytest.mark.parametrize(("path", "schema"), [
    ("/v1/incident_statuses", "IncidentStatusesListResultV1"),
    ("/v1/incident_types", "IncidentTypesListResultV1"),
    ("/v2/custom_fields", "CustomFieldsListResultV2"),
    ("/v2/escalation_paths", "EscalationsListPathsResultV2"),
    ("/v2/users", "UsersListResultV2"),
    ("/v2/alert_sources", "AlertSourcesListResultV2"),
])
def test_settings_lists_match_the_schema(client: TestClient, path: str, schema: str):
    response = client.get(path, headers=AUTH)
    assert response.status_code == 200, response.text
    assert_schema(response.json(), schema)


def test_custom_field_options_are_listed_per_field(client: TestClient):
    query = f"?custom_field_id={catalog.AFFECTED_TEAM_FIELD}"
    body = client.get("/v1/custom_field_options" + query, headers=AUTH).json()
    assert_schema(body, "CustomFieldOptionsListResultV1")
    assert [o["value"] for o in body["custom_field_options"]] == ["Payments", "Platform"]
    missing = client.get("/v1/custom_field_options", headers=AUTH)
    assert_error(missing, 422, "is_required", "custom_field_id")


def test_users_page_with_an_after_cursor_and_filter_by_email(client: TestClient):
    first = client.get("/v2/users?page_size=2", headers=AUTH).json()
    assert len(first["users"]) == 2
    rest = client.get(f"/v2/users?page_size=2&after={first['pagination_meta']['after']}",
                      headers=AUTH).json()
    assert [u["id"] for u in rest["users"]] == [RAVI]
    assert "after" not in rest["pagination_meta"]
    found = client.get("/v2/users?email=ravi@emulator.incident.test", headers=AUTH).json()
    assert [u["id"] for u in found["users"]] == [RAVI]


def test_a_key_without_the_scope_gets_403_for_each_list():
    app = create_emulator_app(api_keys={"narrow": ["severities.view"]})
    with TestClient(app) as client:
        response = client.get("/v2/users", headers={"Authorization": "Bearer narrow"})
    body = assert_error(response, 403, "missing_scope")
    assert "users.view" in body["errors"][0]["message"]


# -- incidents: custom fields, types, roles, status changes ---------------------------


def test_create_with_type_status_custom_fields_and_lead(client: TestClient):
    option = catalog.default_custom_field_options()[1]
    incident = new_incident(
        client, incident_type_id="01FH5TZRWMNAFB0DZ23FD1TV97",
        incident_status_id="01FCNDV6P870EA6S7TK1DSYD5H",
        custom_field_entries=[
            {"custom_field_id": catalog.AFFECTED_TEAM_FIELD,
             "values": [{"value_option_id": option["id"]}]},
            {"custom_field_id": catalog.CUSTOMER_IMPACT_FIELD,
             "values": [{"value_text": "checkout fails"}]}],
        incident_role_assignments=[{"incident_role_id": catalog.lead_role()["id"],
                                    "assignee": {"email": "ravi@emulator.incident.test"}}])
    assert_schema({"incident": incident}, "IncidentsCreateResultV2")
    assert incident["incident_type"]["name"] == "Security"
    assert incident["incident_status"]["name"] == "Triage"
    values = [e["values"][0] for e in incident["custom_field_entries"]]
    assert values == [{"value_option": option}, {"value_text": "checkout fails"}]
    assert incident["incident_role_assignments"][0]["assignee"]["id"] == RAVI


@pytest.mark.parametrize(("extra", "field"), [
    ({"incident_type_id": "nope"}, "incident_type_id"),
    ({"custom_field_entries": [{"custom_field_id": "nope", "values": []}]},
     "custom_field_entries[0].custom_field_id"),
    ({"custom_field_entries": [{"custom_field_id": catalog.AFFECTED_TEAM_FIELD,
                                "values": [{"value_option_id": "nope"}]}]},
     "custom_field_entries[0].values[0].value_option_id"),
    ({"custom_field_entries": "x"}, "custom_field_entries"),
    ({"incident_role_assignments": [{"incident_role_id": "nope"}]},
     "incident_role_assignments[0].incident_role_id"),
])
def test_create_refuses_unknown_references_with_422(client: TestClient, extra, field):
    payload = {"idempotency_key": "k", "visibility": "public", "name": "x",
               "severity_id": MAJOR, **extra}
    assert_error(client.post("/v2/incidents", json=payload, headers=AUTH), 422,
                 "not_found" if "nope" in json.dumps(extra) else "invalid_type", field)
    assert client.get("/v2/incidents", headers=AUTH).json()["incidents"] == []


def test_status_change_sends_status_updated_with_previous_and_new(
        client: TestClient, subscribed: Receiver):
    incident = new_incident(client)
    monitoring = "01FCNDV6P870EA6S7TK1DSYD5M"
    edit = {"incident": {"incident_status_id": monitoring}, "notify_incident_channel": False}
    response = client.post(f"/v2/incidents/{incident['id']}/actions/edit", json=edit,
                           headers=AUTH)
    assert response.status_code == 200
    payloads = published(client, subscribed)
    assert [p["event_type"] for p in payloads] == [
        "public_incident.incident_created_v2", "public_incident.incident_updated_v2",
        "public_incident.incident_status_updated_v2"]
    change = payloads[2]
    assert_schema(change, "WebhooksPublicIncidentIncidentStatusUpdatedV2ResponseBody")
    body = change["public_incident.incident_status_updated_v2"]
    assert (body["previous_status"]["name"], body["new_status"]["name"]) == (
        "Investigating", "Monitoring")
    assert body["incident"]["id"] == incident["id"]


def test_edit_sets_and_unsets_custom_fields(client: TestClient):
    incident = new_incident(client)
    url = f"/v2/incidents/{incident['id']}/actions/edit"
    entry = {"custom_field_id": catalog.CUSTOMER_IMPACT_FIELD,
             "values": [{"value_text": "slow"}]}
    edit = {"incident": {"custom_field_entries": [entry]}, "notify_incident_channel": False}
    edited = client.post(url, json=edit, headers=AUTH).json()["incident"]
    assert edited["custom_field_entries"][0]["values"] == [{"value_text": "slow"}]
    edit["incident"]["custom_field_entries"] = [{**entry, "values": []}]
    assert client.post(url, json=edit, headers=AUTH).json()["incident"][
        "custom_field_entries"] == []


def test_list_filters_on_created_at(client: TestClient):
    new_incident(client)
    assert len(client.get("/v2/incidents?created_at[gte]=2000-01-01",
                          headers=AUTH).json()["incidents"]) == 1
    assert client.get("/v2/incidents?created_at[gte]=2999-01-01",
                      headers=AUTH).json()["incidents"] == []
    assert client.get("/v2/incidents?updated_at[lte]=2000-01-01",
                      headers=AUTH).json()["incidents"] == []
    assert_error(client.get("/v2/incidents?created_at[one_of]=x", headers=AUTH), 422,
                 "invalid_value")


# -- follow-ups ------------------------------------------------------------------------


def test_follow_up_is_created_shown_and_published(client: TestClient, subscribed: Receiver):
    incident = new_incident(client)
    payload = {"incident_id": incident["id"], "title": "Write the post-mortem",
               "description": "by Friday", "assignee_id": RAVI,
               "follow_up_priority_option_id": "01FCNDV6P870EA6S7TK1DSYDP1"}
    response = client.post("/v2/follow_ups", json=payload, headers=AUTH)
    assert response.status_code == 201, response.text
    assert_schema(response.json(), "FollowUpsCreateResultV2")
    follow_up = response.json()["follow_up"]
    assert (follow_up["assignee"]["id"], follow_up["priority"]["name"]) == (RAVI, "High")
    shown = client.get(f"/v2/follow_ups/{follow_up['id']}", headers=AUTH)
    assert shown.json() == {"follow_up": follow_up}
    payloads = published(client, subscribed)
    assert payloads[-1] == {"event_type": "public_incident.follow_up_created_v2",
                            "public_incident.follow_up_created_v2": follow_up}
    assert_schema(payloads[-1], "WebhooksPublicIncidentFollowUpCreatedV2ResponseBody")


def test_private_incident_follow_up_webhook_carries_only_the_id(
        client: TestClient, subscribed: Receiver):
    incident = new_incident(client, visibility="private")
    body = {"incident_id": incident["id"], "title": "t"}
    follow_up = client.post("/v2/follow_ups", json=body, headers=AUTH).json()["follow_up"]
    assert published(client, subscribed)[-1] == {
        "event_type": "private_incident.follow_up_created_v2",
        "private_incident.follow_up_created_v2": {"id": follow_up["id"]}}


@pytest.mark.parametrize(("payload", "code", "field"), [
    ({"title": "x"}, "is_required", "incident_id"),
    ({"incident_id": "INCIDENT", "title": ""}, "is_required", "title"),
    ({"incident_id": "nope", "title": "x"}, "not_found", "incident_id"),
    ({"incident_id": "INCIDENT", "title": "x", "assignee_id": "nope"}, "not_found",
     "assignee_id"),
    ({"incident_id": "INCIDENT", "title": "x", "description": 3}, "invalid_type",
     "description"),
])
def test_follow_up_breaking_the_document_is_422(client: TestClient, payload, code, field):
    incident = new_incident(client)
    payload = {k: incident["id"] if v == "INCIDENT" else v for k, v in payload.items()}
    assert_error(client.post("/v2/follow_ups", json=payload, headers=AUTH), 422, code, field)


def test_unknown_follow_up_is_404(client: TestClient):
    assert_error(client.get("/v2/follow_ups/nope", headers=AUTH), 404, "not_found")


# -- escalations -----------------------------------------------------------------------


def test_escalation_once_per_idempotency_key(client: TestClient, subscribed: Receiver):
    incident = new_incident(client)
    payload = {"idempotency_key": "esc-1", "title": "DB down", "escalation_path_id": PATH,
               "incident_id": incident["id"]}
    first = client.post("/v2/escalations", json=payload, headers=AUTH)
    again = client.post("/v2/escalations", json={**payload, "title": "other"}, headers=AUTH)
    assert first.status_code == again.status_code == 201
    assert_schema(first.json(), "EscalationsCreateResultV2")
    escalation = first.json()["escalation"]
    assert again.json()["escalation"] == escalation
    assert escalation["related_incidents"][0]["reference"] == incident["reference"]
    shown = client.get(f"/v2/escalations/{escalation['id']}", headers=AUTH).json()
    assert shown == {"escalation": escalation}
    escalations = [p for p in published(client, subscribed)
                   if p["event_type"].endswith("escalation_created_v1")]
    assert escalations == [{"event_type": "public_escalation.escalation_created_v1",
                            "public_escalation.escalation_created_v1": escalation}]


def test_escalation_to_users_lists_them_as_notified(client: TestClient):
    payload = {"idempotency_key": "k", "title": "t", "user_ids": [RAVI]}
    escalation = client.post("/v2/escalations", json=payload, headers=AUTH).json()["escalation"]
    assert escalation["events"][1]["users"][0]["id"] == RAVI


@pytest.mark.parametrize(("payload", "code", "field"), [
    ({"title": "t", "escalation_path_id": PATH}, "is_required", "idempotency_key"),
    ({"idempotency_key": "k", "escalation_path_id": PATH}, "is_required", "title"),
    ({"idempotency_key": "k", "title": "t"}, "is_required", "escalation_path_id"),
    ({"idempotency_key": "k", "title": "t", "escalation_path_id": "nope"}, "not_found",
     "escalation_path_id"),
    ({"idempotency_key": "k", "title": "t", "user_ids": ["nope"]}, "not_found", "user_ids[0]"),
    ({"idempotency_key": "k", "title": "t", "user_ids": "x"}, "invalid_type", "user_ids"),
])
def test_escalation_breaking_the_document_is_422(client: TestClient, payload, code, field):
    assert_error(client.post("/v2/escalations", json=payload, headers=AUTH), 422, code, field)


# -- alerts ----------------------------------------------------------------------------


def test_alert_event_opens_one_alert_per_key_then_resolves_it(
        client: TestClient, subscribed: Receiver):
    firing = {"title": "CPU high", "status": "firing", "deduplication_key": "cpu-1",
              "metadata": {"host": "db1"}}
    for _ in range(2):
        response = client.post(ALERTS, json=firing, headers=TOKEN)
        assert response.status_code == 202
        assert_schema(response.json(), "AlertEventsCreateHTTPResultV2")
    resolved = client.post(ALERTS + f"?token={catalog.ALERT_SOURCE_TOKEN}",
                           json={**firing, "status": "resolved"})
    assert resolved.json()["deduplication_key"] == "cpu-1"
    payloads = published(client, subscribed)
    assert [p["event_type"] for p in payloads] == ["public_alert.alert_created_v1",
                                                   "public_alert.alert_resolved_v1"]
    alert = payloads[1]["public_alert.alert_resolved_v1"]
    assert_schema(payloads[1], "WebhooksPublicAlertResolvedV1ResponseBody")
    assert (alert["status"], alert["deduplication_key"]) == ("resolved", "cpu-1")
    shown = client.get(f"/v2/alerts/{alert['id']}", headers=AUTH).json()
    assert_schema(shown, "AlertsShowResultV2")


def test_alert_events_take_the_source_token_not_an_api_key(client: TestClient):
    event = {"title": "t", "status": "firing"}
    assert_error(client.post(ALERTS, json=event, headers=AUTH), 401,
                 "invalid_authorization_material")
    assert_error(client.post(ALERTS, json=event), 401, "missing_authorization_material")
    assert_error(client.post("/v2/alert_events/http/nope", json=event, headers=TOKEN), 404,
                 "not_found")


@pytest.mark.parametrize(("payload", "code", "field"), [
    ({"status": "firing"}, "is_required", "title"),
    ({"title": "t"}, "is_required", "status"),
    ({"title": "t", "status": "open"}, "invalid_value", "status"),
    ({"title": "t", "status": "firing", "metadata": [1]}, "invalid_type", "metadata"),
])
def test_alert_event_breaking_the_document_is_422(client: TestClient, payload, code, field):
    assert_error(client.post(ALERTS, json=payload, headers=TOKEN), 422, code, field)


def test_resolve_alert(client: TestClient, subscribed: Receiver):
    client.post(ALERTS, json={"title": "t", "status": "firing", "deduplication_key": "d"},
                headers=TOKEN)
    alert_id = published(client, subscribed)[0]["public_alert.alert_created_v1"]["id"]
    response = client.post(f"/v2/alerts/{alert_id}/actions/resolve", headers=AUTH)
    assert response.status_code == 200
    assert_schema(response.json(), "AlertsResolveResultV2")
    assert response.json()["alert"]["status"] == "resolved"
    assert_error(client.post("/v2/alerts/nope/actions/resolve", headers=AUTH), 404, "not_found")


def test_resolving_needs_the_alerts_resolve_scope():
    app = create_emulator_app(api_keys={"viewer": ["alerts.view"]})
    with TestClient(app) as client:
        response = client.post("/v2/alerts/x/actions/resolve",
                               headers={"Authorization": "Bearer viewer"})
    assert "alerts.resolve" in assert_error(response, 403, "missing_scope")["errors"][0][
        "message"]


# -- what responders do (test hooks) ---------------------------------------------------


def test_acknowledging_an_escalation_sends_its_status_change(client: TestClient,
                                                              subscribed: Receiver):
    payload = {"idempotency_key": "k", "title": "t", "escalation_path_id": PATH}
    escalation = client.post("/v2/escalations", json=payload, headers=AUTH).json()["escalation"]
    acked = client.post(f"/_emulator/escalations/{escalation['id']}/status",
                        json={"status": "acked"})
    assert acked.json()["escalation"]["status"] == "acked"
    change = published(client, subscribed)[-1]
    assert_schema(change, "WebhooksPublicEscalationStatusUpdatedV1ResponseBody")
    body = change["public_escalation.escalation_status_updated_v1"]
    assert (body["previous_status"], body["new_status"]) == ("triggered", "acked")
    assert_error(client.post(f"/_emulator/escalations/{escalation['id']}/status",
                             json={"status": "nope"}), 422, "invalid_value", "status")


def test_completing_a_follow_up_sends_follow_up_updated(client: TestClient,
                                                        subscribed: Receiver):
    incident = new_incident(client)
    body = {"incident_id": incident["id"], "title": "t"}
    follow_up = client.post("/v2/follow_ups", json=body, headers=AUTH).json()["follow_up"]
    client.post(f"/_emulator/follow_ups/{follow_up['id']}/status", json={"status": "completed"})
    update = published(client, subscribed)[-1]
    assert_schema(update, "WebhooksPublicIncidentFollowUpUpdatedV2ResponseBody")
    assert update["public_incident.follow_up_updated_v2"]["status"] == "completed"
    assert_error(client.post("/_emulator/follow_ups/nope/status", json={"status": "completed"}),
                 404, "not_found")
