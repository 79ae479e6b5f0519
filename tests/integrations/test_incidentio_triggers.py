"""Every incident.io trigger on incident.io's own example deliveries: public events
become one event of the contract's type and shape, private ones a first step that
fetches the object, filtered ones nothing (with the reason)."""

from __future__ import annotations

import json

import httpx
import pytest
from incidentio_fakes import DATA, NOW, FakeIncidentIO, error_body, make_context

from incidentflow.components.base import WebhookRequest
from incidentflow.errors import PermanentError, RetryableError
from incidentflow.events import Event
from incidentflow.integrations.incidentio import OnAlert, OnEscalation, OnFollowUp, OnIncident
from incidentflow.integrations.incidentio.receiving import (
    FILTERED_CHANNEL,
    NAMED_INTEGRATION,
    NO_INTEGRATION,
)
from incidentflow.integrations.incidentio.signature import sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EXAMPLES = DATA / "incidentio-webhook-examples"
WITH_INTEGRATION = {NAMED_INTEGRATION: "incident"}

# (trigger, incident.io type, emitted type, object key)
PUBLIC = [
    (OnIncident, "public_incident.incident_created_v2", "incident.incident.created", "incident"),
    (OnIncident, "public_incident.incident_updated_v2", "incident.incident.updated", "incident"),
    (OnFollowUp, "public_incident.follow_up_created_v2", "incident.follow_up.created",
     "follow_up"),
    (OnFollowUp, "public_incident.follow_up_updated_v2", "incident.follow_up.updated",
     "follow_up"),
    (OnFollowUp, "public_incident.follow_up_created_v1", "incident.follow_up.created",
     "follow_up"),
    (OnFollowUp, "public_incident.follow_up_updated_v1", "incident.follow_up.updated",
     "follow_up"),
    (OnAlert, "public_alert.alert_created_v1", "incident.alert.created", "alert"),
    (OnAlert, "public_alert.alert_resolved_v1", "incident.alert.resolved", "alert"),
    (OnEscalation, "public_escalation.escalation_created_v1", "incident.escalation.created",
     "escalation"),
]
# (trigger, private type, emitted type, object key, the API path fetched)
PRIVATE = [
    (OnIncident, "private_incident.incident_created_v2", "incident.incident.created",
     "incident", "/v2/incidents/abc123"),
    (OnIncident, "private_incident.incident_updated_v2", "incident.incident.updated",
     "incident", "/v2/incidents/abc123"),
    (OnFollowUp, "private_incident.follow_up_created_v2", "incident.follow_up.created",
     "follow_up", "/v2/follow_ups/abc123"),
    (OnFollowUp, "private_incident.follow_up_updated_v1", "incident.follow_up.updated",
     "follow_up", "/v2/follow_ups/abc123"),
    (OnAlert, "private_alert.alert_resolved_v1", "incident.alert.resolved", "alert",
     "/v2/alerts/abc123"),
    (OnEscalation, "private_escalation.escalation_status_updated_v1",
     "incident.escalation.status_updated", "escalation", "/v2/escalations/abc123"),
]


def example(event_type: str) -> bytes:
    return (EXAMPLES / f"{event_type}.json").read_bytes()


def delivery(body: bytes, msg_id: str = "msg_1") -> WebhookRequest:
    ts = str(int(NOW.timestamp()))
    return WebhookRequest({"webhook-id": msg_id, "webhook-timestamp": ts,
                           "webhook-signature": sign(SECRET, msg_id, ts, body),
                           "content-type": "application/json"}, body)


def receive(trigger, body: bytes, config: dict | None = None):
    return trigger.receive(delivery(body), [SECRET], config or {}, NOW)


def everything(trigger) -> dict:
    return {"events": list(trigger.kinds), **WITH_INTEGRATION}


@pytest.mark.parametrize("cls, event_type, emitted, key", PUBLIC)
def test_public_deliveries_become_the_contract_event_with_the_object_whole(
        cls, event_type, emitted, key):
    trigger = cls()
    verdict = receive(trigger, example(event_type), {"events": [event_type]})
    [event] = verdict.events
    assert (verdict.status, event.type) == (200, emitted)
    assert event.data == {"event_type": event_type,
                          key: json.loads(example(event_type))[event_type]}
    assert not trigger.first_step(event)
    assert trigger.subject_id(event) == event.data[key]["id"]


def test_incident_status_update_carries_previous_and_new_status_and_message():
    event_type = "public_incident.incident_status_updated_v2"
    sent = json.loads(example(event_type))[event_type]
    [event] = receive(OnIncident(), example(event_type), {"events": [event_type]}).events
    assert event.type == "incident.incident.status_updated"
    assert event.data == {"event_type": event_type, "incident": sent["incident"],
                          "previous_status": sent["previous_status"],
                          "new_status": sent["new_status"], "message": sent["message"]}


def test_escalation_status_update_keeps_the_escalation_and_its_own_fields():
    event_type = "public_escalation.escalation_status_updated_v1"
    sent = json.loads(example(event_type))[event_type]
    [event] = receive(OnEscalation(), example(event_type), {"events": [event_type]}).events
    assert event.type == "incident.escalation.status_updated"
    assert event.data["escalation"] == sent["escalation"]
    assert (event.data["previous_status"], event.data["new_status"]) == ("pending", "pending")
    assert event.data["actor"] == sent["actor"]


@pytest.mark.parametrize("cls, event_type", [
    (OnIncident, "public_alert.alert_created_v1"),
    (OnAlert, "public_incident.incident_created_v2"),
    (OnFollowUp, "public_escalation.escalation_created_v1"),
    (OnEscalation, "public_incident.follow_up_created_v2"),
    (OnIncident, "public_incident.action_created_v1"),
])
def test_types_a_trigger_does_not_take_are_acknowledged_and_start_nothing(cls, event_type):
    trigger = cls()
    verdict = receive(trigger, example(event_type), everything(trigger))
    assert (verdict.status, verdict.events, verdict.reason) == (
        200, (), "event type not selected")


@pytest.mark.parametrize("cls, event_type, emitted, key, path", PRIVATE)
def test_private_deliveries_start_a_first_step_naming_only_the_id(
        cls, event_type, emitted, key, path):
    trigger = cls()
    verdict = receive(trigger, example(event_type), everything(trigger))
    [event] = verdict.events
    assert (verdict.status, event.type) == (200, emitted)
    assert event.data == {"event_type": event_type, key: {"id": "abc123"}}
    assert trigger.first_step(event)


@pytest.mark.parametrize("cls, event_type, emitted, key, path", PRIVATE)
def test_private_deliveries_without_an_integration_are_acknowledged_and_say_why(
        cls, event_type, emitted, key, path):
    trigger = cls()
    config = {"events": list(trigger.kinds)}  # the node names no integration
    verdict = receive(trigger, example(event_type), config)
    assert (verdict.status, verdict.events, verdict.reason) == (200, (), NO_INTEGRATION)


def fetch_context(api: FakeIncidentIO, event: Event, config: dict | None = None, **more):
    return make_context(api, config or {}, input=event, node="On Incident", **more)


@pytest.mark.parametrize("cls, event_type, emitted, key, path", PRIVATE)
async def test_the_first_step_fetches_the_object_and_emits_the_public_shape(
        cls, event_type, emitted, key, path):
    trigger = cls()
    [placeholder] = receive(trigger, example(event_type), everything(trigger)).events
    fetched = {"id": "abc123", "name": "Secret thing", "mode": "standard"}
    api = FakeIncidentIO()
    api.script(path, httpx.Response(200, json={key: fetched}))
    [emission] = await trigger.execute(fetch_context(api, placeholder))
    assert [r.url.path for r in api.requests] == [path]
    assert api.requests[0].method == "GET"
    assert emission.root and emission.channel == "default"
    assert emission.event == Event(emitted, {"event_type": event_type, key: fetched},
                                   placeholder.timestamp)


async def test_the_fetch_retries_an_outage_in_place_then_hands_over_to_the_engine():
    trigger = OnIncident(sleep=FakeIncidentIO().sleep)
    placeholder = Event("incident.incident.created", {
        "event_type": "private_incident.incident_created_v2", "incident": {"id": "abc123"}})
    api = FakeIncidentIO()
    api.script("/v2/incidents/abc123", httpx.Response(502, json={}),
               httpx.Response(200, json={"incident": {"id": "abc123", "name": "x"}}))
    [emission] = await trigger.execute(fetch_context(api, placeholder))
    assert emission.event.data["incident"]["name"] == "x" and len(api.requests) == 2
    api = FakeIncidentIO()
    api.script("/v2/incidents/abc123", httpx.Response(503, json={}))
    with pytest.raises(RetryableError):  # the engine retries the step later
        await trigger.execute(fetch_context(api, placeholder))


@pytest.mark.parametrize("status, words", [
    (403, "View all incident data"),
    (404, "View all incident data"),
])
async def test_a_key_that_cannot_see_private_objects_fails_the_step_and_says_which_permission(
        status, words):
    placeholder = Event("incident.incident.updated", {
        "event_type": "private_incident.incident_updated_v2", "incident": {"id": "abc123"}})
    api = FakeIncidentIO()
    api.script("/v2/incidents/abc123",
               httpx.Response(status, json=error_body(status, "not_found")))
    with pytest.raises(PermanentError) as caught:
        await OnIncident().execute(fetch_context(api, placeholder))
    assert words in str(caught.value) and "req-123" in str(caught.value)


async def test_the_first_step_without_an_integration_fails_with_the_reason():
    placeholder = Event("incident.incident.updated", {
        "event_type": "private_incident.incident_updated_v2", "incident": {"id": "abc123"}})
    with pytest.raises(PermanentError, match="names no incident integration"):
        await OnIncident().execute(fetch_context(FakeIncidentIO(), placeholder,
                                                 integration=None))


# -- filters -------------------------------------------------------------------------------
CREATED = "public_incident.incident_created_v2"
INCIDENT = json.loads(example(CREATED))[CREATED]


def with_incident(**changes) -> bytes:
    return json.dumps({"event_type": CREATED, CREATED: {**INCIDENT, **changes}}).encode()


@pytest.mark.parametrize("config, changes, passes", [
    ({}, {}, True),
    ({"severities": [INCIDENT["severity"]["id"]]}, {}, True),
    ({"severities": ["01OTHER"]}, {}, False),
    ({"incidentTypes": [INCIDENT["incident_type"]["id"]]}, {}, True),
    ({"incidentTypes": ["01OTHER"]}, {}, False),
    ({"statusCategories": ["live", "triage"]}, {}, True),
    ({"statusCategories": ["closed"]}, {}, False),
    ({}, {"mode": "test"}, False),  # incident.io's default: standard and retrospective
    ({"modes": ["test"]}, {"mode": "test"}, True),
    ({}, {"mode": "retrospective"}, True),
    ({"modes": ["standard"]}, {"mode": "retrospective"}, False),
])
def test_filters_decide_before_a_run_starts(config, changes, passes):
    verdict = receive(OnIncident(), with_incident(**changes), config)
    assert verdict.status == 200 and bool(verdict.events) is passes
    if not passes:
        assert verdict.reason.startswith("filtered: ")


def test_a_filtered_reason_names_the_value_and_the_field():
    verdict = receive(OnIncident(), with_incident(), {"severities": ["01OTHER"]})
    assert verdict.reason == (f"filtered: severity {INCIDENT['severity']['id']} is not "
                              "among severities")


async def test_a_fetched_private_incident_is_filtered_in_the_first_step():
    placeholder = Event("incident.incident.created", {
        "event_type": "private_incident.incident_created_v2", "incident": {"id": "abc123"}})
    api = FakeIncidentIO()
    api.script("/v2/incidents/abc123", httpx.Response(200, json={"incident": {
        **INCIDENT, "id": "abc123", "mode": "test"}}))
    [emission] = await OnIncident().execute(fetch_context(api, placeholder))
    assert emission.channel == FILTERED_CHANNEL and emission.root


@pytest.mark.parametrize("config, field", [
    ({"catchUp": {"enabled": "yes"}}, "catchUp.enabled"),
    ({"catchUp": {"enabled": True, "everyMinutes": 0}}, "catchUp.everyMinutes"),
    ({"catchUp": {"enabled": True, "every": 5}}, "catchUp.every"),
    ({"catchUp": 5}, "catchUp"),
    ({"events": ["public_alert.alert_created_v1"]}, "events"),
])
def test_bad_trigger_configuration_names_the_field(config, field):
    problems = OnIncident().check("Listen", config)
    assert [(p.node, p.field) for p in problems][:1] == [("Listen", field)]


async def test_saving_private_events_without_an_integration_warns():
    check = await OnFollowUp().check_remote(
        "Follow-ups", {"events": ["private_incident.follow_up_created_v2"]}, None,
        FakeIncidentIO().client())
    [warning] = check.warnings
    assert (warning.node, warning.field) == ("Follow-ups", "integration")
    assert not check.errors
