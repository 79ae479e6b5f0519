"""On Incident: every rejection and acceptance path of receive(), on real deliveries."""

from __future__ import annotations

import json

import pytest
from incidentio_fakes import DATA, NOW

from incidentflow.components.base import RejectionCode, WebhookRequest
from incidentflow.integrations.incidentio.signature import sign
from incidentflow.integrations.incidentio.trigger import OnIncident

TRIGGER = OnIncident()
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TS = str(int(NOW.timestamp()))
EXAMPLES = DATA / "incidentio-webhook-examples"
OTHER_SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
CREATED = "public_incident.incident_created_v2"
UPDATED = "public_incident.incident_updated_v2"


def delivery(body: bytes | str, *, msg_id="msg_1", timestamp=TS, secret=SECRET, prefix="webhook-"):
    raw = body.encode() if isinstance(body, str) else body
    headers = {f"{prefix}id": msg_id, f"{prefix}timestamp": timestamp,
               f"{prefix}signature": sign(secret, msg_id, timestamp, raw)}
    return WebhookRequest(headers=headers, body=raw)


def example(event_type: str) -> bytes:
    return (EXAMPLES / f"{event_type}.json").read_bytes()


def receive(request, config=None, secrets=(SECRET,)):
    return TRIGGER.receive(request, list(secrets), config or {}, NOW)


@pytest.mark.parametrize("event_type, emitted", [
    (CREATED, "incident.incident.created"),
    (UPDATED, "incident.incident.updated"),
])
def test_real_delivery_becomes_one_event_with_the_incident_whole(event_type, emitted):
    raw = example(event_type)
    verdict = receive(delivery(raw, msg_id="msg_abc"))
    assert verdict.status == 200 and verdict.accepted
    [event] = verdict.events
    assert event.type == emitted
    assert event.data == {"event_type": event_type, "incident": json.loads(raw)[event_type]}
    assert event.timestamp == "2026-01-19T12:00:00Z"
    assert verdict.dedupe_key == "msg_abc"


def test_data_wrapped_form_is_accepted():
    incident = {"id": "01F", "name": "Our database is sad"}
    body = json.dumps({"data": {"event_type": CREATED, "incident": incident}})
    [event] = receive(delivery(body)).events
    assert event.data == {"event_type": CREATED, "incident": incident}


def test_the_seed_example_event_is_accepted_as_a_delivery():
    seed = TRIGGER.example_output
    [event] = receive(delivery(json.dumps(seed))).events
    assert event.type == seed["type"] and event.data == seed["data"]


def test_incident_keyed_form_is_accepted():
    incident = {"id": "01F", "name": "x"}
    body = json.dumps({"event_type": UPDATED, "incident": incident})
    [event] = receive(delivery(body)).events
    assert event.type == "incident.incident.updated"
    assert event.data["incident"] == incident


def test_svix_header_names_are_accepted():
    assert receive(delivery(example(CREATED), prefix="svix-")).events


def test_no_secret_is_rejected_and_says_so():
    verdict = receive(delivery(example(CREATED)), secrets=())
    assert verdict.status == 403
    assert verdict.reason == "signing secret not set"
    assert verdict.code is RejectionCode.NO_SECRET
    assert not verdict.events


@pytest.mark.parametrize("tamper, reason, code", [
    (lambda r: WebhookRequest({k: v for k, v in r.headers.items() if k != "webhook-signature"},
                              r.body), "missing", RejectionCode.MISSING_HEADERS),
    (lambda r: WebhookRequest(r.headers, r.body + b" "), "no signature matches",
     RejectionCode.BAD_SIGNATURE),
    (lambda r: WebhookRequest({**r.headers, "webhook-id": "msg_other"}, r.body),
     "no signature matches", RejectionCode.BAD_SIGNATURE),
])
def test_bad_signatures_get_a_generic_403_and_a_precise_reason(tamper, reason, code):
    verdict = receive(tamper(delivery(example(CREATED))))
    assert verdict.status == 403
    assert verdict.public == "forbidden"
    assert reason in verdict.reason
    assert verdict.code is code
    assert not verdict.events


def test_wrong_secret_is_rejected():
    verdict = receive(delivery(example(CREATED), secret=OTHER_SECRET))
    assert (verdict.status, verdict.public) == (403, "forbidden")


@pytest.mark.parametrize("offset, word", [(-301, "too old"), (301, "too new")])
def test_stale_or_future_timestamp_is_rejected(offset, word):
    verdict = receive(delivery(example(CREATED), timestamp=str(int(TS) + offset)))
    assert verdict.status == 403 and word in verdict.reason
    assert verdict.code is RejectionCode.STALE_TIMESTAMP


def test_previous_secret_still_accepted_during_rotation():
    verdict = receive(delivery(example(CREATED), secret=SECRET), secrets=(OTHER_SECRET, SECRET))
    assert verdict.accepted and verdict.events


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"incident": {}}', "no event_type"),
    (b'{"event_type": 5}', "no event_type"),
    (json.dumps({"event_type": CREATED}).encode(), "no incident object"),
    (json.dumps({"event_type": CREATED, CREATED: "x"}).encode(), "no incident object"),
])
def test_malformed_bodies_get_400(body, reason):
    verdict = receive(delivery(body))
    assert verdict.status == 400
    assert verdict.public == "bad request"
    assert reason in verdict.reason


def test_signature_is_checked_before_the_body_is_parsed():
    request = delivery(b"{not json")
    verdict = receive(WebhookRequest({**request.headers, "webhook-signature": "v1,AAAA"},
                                     request.body))
    assert verdict.status == 403


@pytest.mark.parametrize("event_type", [
    "private_incident.incident_created_v2",
    "public_incident.incident_status_updated_v2",
])
def test_event_types_off_by_default_are_acknowledged_without_events(event_type):
    verdict = receive(delivery(example(event_type)))
    assert verdict.status == 200
    assert verdict.reason == "event type not selected"
    assert verdict.events == ()


def test_event_type_not_in_the_node_selection_is_acknowledged_without_events():
    verdict = receive(delivery(example(UPDATED)), config={"events": [CREATED]})
    assert (verdict.status, verdict.reason, verdict.events) == (
        200, "event type not selected", ())
    assert receive(delivery(example(CREATED)), config={"events": [CREATED]}).events


def test_declaration():
    assert TRIGGER.type == "incident.onIncident" and TRIGGER.label == "On Incident"
    assert TRIGGER.role == "trigger"
    # It may name an incident integration (seed canvases do); receiving needs only a
    # signing secret, so naming one is optional.
    assert TRIGGER.integration == "incident" and TRIGGER.integration_optional
    events = TRIGGER.field("events")
    assert events.kind == "multiselect" and events.required
    assert events.default == [CREATED, UPDATED]
    assert [o.value for o in events.options] == [
        CREATED, "private_incident.incident_created_v2",
        UPDATED, "private_incident.incident_updated_v2",
        "public_incident.incident_status_updated_v2"]
    [hook] = TRIGGER.hooks
    assert (hook.name, hook.label) == ("setSecret", "Set signing secret")
    assert [(f.name, f.kind) for f in hook.fields] == [("webhookSigningSecret", "secret")]
    assert TRIGGER.example_output["type"] == "incident.incident.created"
    assert TRIGGER.example_output["data"]["incident"]["reference"] == "INC-123"


@pytest.mark.parametrize("config, ok", [
    ({}, True),
    ({"events": [CREATED]}, True),
    ({"events": []}, False),
    ({"events": ["public_incident.incident_deleted_v9"]}, False),
    ({"events": "x"}, False),
])
def test_static_check_of_events(config, ok):
    problems = TRIGGER.check("Listen", config)
    assert (problems == []) is ok
    assert all((p.node, p.field) == ("Listen", "events") for p in problems)


@pytest.mark.parametrize("content_type, status", [
    ("application/json", 200),
    ("application/json; charset=utf-8", 200),
    ("Application/JSON", 200),
    ("application/vnd.svix+json", 200),
    ("text/plain", 415),
    ("application/x-www-form-urlencoded", 415),
    ("multipart/form-data; boundary=x", 415),
])
def test_content_type_is_checked_after_the_signature(content_type, status):
    signed = delivery(example(CREATED))
    request = WebhookRequest({**signed.headers, "content-type": content_type}, signed.body)
    verdict = receive(request)
    assert verdict.status == status
    assert (len(verdict.events) == 1) == (status == 200)
    if status == 415:
        assert content_type.split(";")[0] in verdict.reason
        unsigned = WebhookRequest({"content-type": content_type}, signed.body)
        assert receive(unsigned).status == 403  # strangers learn nothing more


# -- what the self-trigger guard asks of On Incident ----------------------------------------


def incident_event(**incident):
    from incidentflow.events import Event

    return Event("incident.incident.created", {"event_type": CREATED, "incident": incident})


def test_the_subject_of_an_event_is_its_incident_id():
    [event] = receive(delivery(example(CREATED))).events
    expected = json.loads(example(CREATED))[CREATED]["id"]
    assert TRIGGER.subject_id(event) == expected
    assert TRIGGER.subject_id(incident_event()) is None
    assert TRIGGER.subject_id(incident_event(id="")) is None


@pytest.mark.parametrize("creator, could_be", [
    ({"api_key": {"id": "k"}}, True),
    ({"api_key": {"id": "k"}, "user": {"id": "u"}}, True),
    ({"user": {"id": "u"}}, False),  # a person declared it: no create action did
    ({"alert": {"id": "a"}}, False),
    ({}, True),  # unknown: the guard looks
    (None, True),
])
def test_only_an_api_created_incident_may_be_the_canvas_own(creator, could_be):
    event = incident_event(id="01X", **({"creator": creator} if creator is not None else {}))
    assert TRIGGER.could_be_self_created(event) is could_be


def test_self_triggered_runs_are_off_unless_opted_in():
    assert TRIGGER.field("allowSelfTriggered").default is False
    assert TRIGGER.listens_for == frozenset({"incident.incident"})
    assert not TRIGGER.allows_self_triggered({})
    assert not TRIGGER.allows_self_triggered({"allowSelfTriggered": "true"})
    assert TRIGGER.allows_self_triggered({"allowSelfTriggered": True})


def test_create_incident_reports_the_id_it_created():
    from incidentflow.events import Event
    from incidentflow.integrations.incidentio.action import CreateIncident

    action = CreateIncident()
    assert action.creates == "incident.incident"
    assert action.created_id(Event("incident.incident", {"id": "01NEW", "name": "x"})) == "01NEW"
    assert action.created_id(Event("incident.incident", {"name": "x"})) is None
