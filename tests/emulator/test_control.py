"""Test hooks under /_emulator/: request log, faults, reset, endpoint registry, CLI parsing."""

from __future__ import annotations

import random

import pytest
from emulator_support import API_KEY, AUTH, assert_error, assert_schema, new_incident
from starlette.testclient import TestClient

from incidentflow.emulator import FaultPlan, create_emulator_app
from incidentflow.emulator.endpoints import parse_webhook_flag
from incidentflow.emulator.server import fault_plan, parse_retry_schedule

# -- request log -----------------------------------------------------------------------


def test_every_api_request_is_recorded_with_headers_and_body(client: TestClient):
    new_incident(client, key="k1", name="Logged")
    client.get("/v1/severities")  # unauthenticated: recorded too
    log = client.get("/_emulator/requests").json()["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v2/incidents", 200),
        ("GET", "/v1/severities", 401),
    ]
    assert log[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert log[0]["body"]["name"] == "Logged"
    assert log[0]["body"]["idempotency_key"] == "k1"


def test_request_log_can_be_cleared(client: TestClient):
    client.get("/v1/severities", headers=AUTH)
    assert client.delete("/_emulator/requests").status_code == 204
    assert client.get("/_emulator/requests").json()["requests"] == []


# -- faults ----------------------------------------------------------------------------


def test_fault_fails_the_next_n_calls_then_clears(client: TestClient):
    assert client.post("/_emulator/faults", json={"status": 500, "count": 2}).status_code == 201
    statuses = [client.get("/v1/severities", headers=AUTH).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert client.get("/_emulator/faults").json()["faults"] == []


def test_injected_500_is_in_incidentio_error_format(client: TestClient):
    client.post("/_emulator/faults", json={"status": 503})
    assert_error(client.get("/v1/severities", headers=AUTH), 503, "internal_error")


def test_rate_limit_fault_carries_retry_after(client: TestClient):
    client.post("/_emulator/faults", json={"status": 429, "retry_after": 7})
    response = client.get("/v1/severities", headers=AUTH)
    body = assert_error(response, 429, "too_many_requests")
    assert response.headers["retry-after"] == "7"
    assert body["type"] == "too_many_requests" and body["rate_limit"]["remaining"] == 0


def test_fault_before_processing_opens_no_incident(client: TestClient):
    client.post("/_emulator/faults", json={"status": 500})
    payload = {"idempotency_key": "k", "visibility": "public", "name": "x",
               "severity_id": "01FCNDV6P870EA6S7TK1DSYDG0"}
    assert client.post("/v2/incidents", json=payload, headers=AUTH).status_code == 500
    assert client.get("/v2/incidents", headers=AUTH).json()["incidents"] == []


def test_lost_response_then_retry_with_same_key_gives_one_incident(client: TestClient):
    client.post("/_emulator/faults", json={"status": 502, "when": "after"})
    payload = {"idempotency_key": "k", "visibility": "public", "name": "x",
               "severity_id": "01FCNDV6P870EA6S7TK1DSYDG0"}
    assert client.post("/v2/incidents", json=payload, headers=AUTH).status_code == 502
    retried = client.post("/v2/incidents", json=payload, headers=AUTH)
    assert retried.status_code == 200
    listed = client.get("/v2/incidents", headers=AUTH).json()["incidents"]
    assert [i["id"] for i in listed] == [retried.json()["incident"]["id"]]


def test_faults_do_not_touch_test_hooks(client: TestClient):
    client.post("/_emulator/faults", json={"status": 500})
    assert client.get("/_emulator/requests").status_code == 200
    assert client.get("/v1/severities", headers=AUTH).status_code == 500


@pytest.mark.parametrize(
    "fault",
    [{"status": 404}, {"status": 500, "count": 0}, {"status": 429, "retry_after": -1},
     {"status": 500, "when": "during"}, ["status"]],
)
def test_bad_fault_is_rejected(client: TestClient, fault):
    response = client.post("/_emulator/faults", json=fault)
    assert response.status_code in (400, 422)
    assert client.get("/_emulator/faults").json()["faults"] == []


def test_fail_rate_one_fails_every_call():
    app = create_emulator_app(api_keys=API_KEY, faults=fault_plan(1.0, 503))
    with TestClient(app) as client:
        assert {client.get("/v1/severities", headers=AUTH).status_code for _ in range(3)} == {503}


def test_fail_rate_is_reproducible_with_a_seed():
    def outcomes() -> list[int]:
        plan = FaultPlan(fail_rate=0.5, rng=random.Random(7))
        with TestClient(create_emulator_app(api_keys=API_KEY, faults=plan)) as client:
            return [client.get("/v1/severities", headers=AUTH).status_code for _ in range(20)]

    first = outcomes()
    assert first == outcomes()
    assert {200, 500} == set(first)


@pytest.mark.parametrize(("rate", "status"), [(1.5, 500), (0.1, 404)])
def test_fault_plan_checks_its_flags(rate: float, status: int):
    with pytest.raises(ValueError):
        fault_plan(rate, status)


# -- UI-side incidents and reset -------------------------------------------------------


def test_open_incident_as_a_person(client: TestClient):
    response = client.post("/_emulator/incidents", json={"name": "Checkout down"})
    assert response.status_code == 201
    incident = response.json()["incident"]
    assert_schema(incident, "IncidentV2")
    assert incident["creator"]["user"]["name"]
    assert incident["severity"]["name"] == "Minor" and incident["visibility"] == "public"
    shown = client.get(f"/v2/incidents/{incident['id']}", headers=AUTH).json()["incident"]
    assert shown == incident


def test_open_incident_as_a_person_validates(client: TestClient):
    response = client.post("/_emulator/incidents", json={"name": "x", "visibility": "hidden"})
    assert_error(response, 422, "invalid_value", "visibility")


def test_reset_forgets_everything_but_initial_endpoints():
    app = create_emulator_app(
        api_keys=API_KEY, webhook_endpoints=[("http://127.0.0.1:9/initial", None)]
    )
    with TestClient(app) as client:
        new_incident(client)
        client.post("/_emulator/webhook-endpoints", json={"url": "http://127.0.0.1:9/extra"})
        client.post("/_emulator/faults", json={"status": 500, "count": 5})
        assert client.post("/_emulator/reset").status_code == 204
        endpoints = client.get("/_emulator/webhook-endpoints").json()["webhook_endpoints"]
        assert [e["url"] for e in endpoints] == ["http://127.0.0.1:9/initial"]
        assert client.get("/_emulator/faults").json()["faults"] == []
        assert client.get("/_emulator/deliveries").json()["deliveries"] == []
        assert new_incident(client)["reference"] == "INC-1"
        assert len(client.get("/_emulator/requests").json()["requests"]) == 1


# -- webhook endpoint registry ---------------------------------------------------------


def test_endpoint_without_secret_gets_a_generated_one(client: TestClient):
    response = client.post("/_emulator/webhook-endpoints", json={"url": "http://127.0.0.1:9/h"})
    assert response.status_code == 201
    assert response.json()["secret"].startswith("whsec_")
    listed = client.get("/_emulator/webhook-endpoints").json()["webhook_endpoints"]
    assert listed == [response.json()]


@pytest.mark.parametrize(
    "body",
    [{"url": "ftp://x/h"}, {"url": "not a url"}, {"url": "http://x/h", "secret": "plain"},
     {"url": "http://x/h", "secret": "whsec_!!!"}, {"url": "http://x/h", "event_types": "all"}],
)
def test_bad_endpoint_is_rejected(client: TestClient, body):
    assert_error(client.post("/_emulator/webhook-endpoints", json=body), 400, "bad_request")


def test_endpoint_can_be_removed(client: TestClient):
    created = client.post("/_emulator/webhook-endpoints", json={"url": "http://x/h"}).json()
    assert client.delete(f"/_emulator/webhook-endpoints/{created['id']}").status_code == 204
    assert client.get("/_emulator/webhook-endpoints").json()["webhook_endpoints"] == []
    assert client.delete(f"/_emulator/webhook-endpoints/{created['id']}").status_code == 404


# -- CLI flag parsing ------------------------------------------------------------------


def test_webhook_flag_splits_at_whsec_even_with_equals_signs():
    url, secret = parse_webhook_flag("http://h/hook?a=b=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=")
    assert url == "http://h/hook?a=b"
    assert secret == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS="


def test_webhook_flag_without_secret_means_generate_one():
    assert parse_webhook_flag("http://h/hook") == ("http://h/hook", None)


@pytest.mark.parametrize("flag", ["h/hook=whsec_abcd", "http://h/hook=whsec_", "whsec_abcd"])
def test_bad_webhook_flag_is_rejected(flag: str):
    with pytest.raises(ValueError):
        parse_webhook_flag(flag)


def test_retry_schedule_parsing():
    assert parse_retry_schedule("0, 0.1,0.5") == (0.0, 0.1, 0.5)
    for bad in ("", "a,b", "0,-1"):
        with pytest.raises(ValueError):
            parse_retry_schedule(bad)


# -- timing: the created webhook overtakes the create call's answer ----------------------


def test_with_a_lead_the_created_webhook_arrives_before_the_create_answers(
    client: TestClient, receiver
):
    client.post("/_emulator/webhook-endpoints", json={"url": receiver.url})
    answer = client.post("/_emulator/timing", json={"webhook_lead_seconds": 0.3})
    assert answer.status_code == 200 and answer.json() == {"webhook_lead_seconds": 0.3}
    incident = new_incident(client)
    # Already received when the create call returned: no waiting here.
    _, body = receiver.received.get_nowait()
    assert incident["id"] in body.decode()


@pytest.mark.parametrize("lead", [-1, 31, "1", True, None])
def test_a_bad_lead_is_rejected(client: TestClient, lead):
    assert_error(client.post("/_emulator/timing", json={"webhook_lead_seconds": lead}),
                 400, "bad_request")
    assert client.get("/_emulator/timing").json() == {"webhook_lead_seconds": 0.0}


def test_reset_turns_the_lead_off(client: TestClient):
    client.post("/_emulator/timing", json={"webhook_lead_seconds": 2})
    client.post("/_emulator/reset")
    assert client.get("/_emulator/timing").json() == {"webhook_lead_seconds": 0.0}
