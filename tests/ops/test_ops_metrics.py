"""/metrics counts deliveries, executions and latencies, and never shows a secret;
/readyz follows the database; /healthz is liveness only."""

from __future__ import annotations

import base64
import json
import secrets
import time

import anyio
import pytest
from helpers import signed_headers
from ops_support import ADMIN_TOKEN, apply_manual
from starlette.testclient import TestClient

from incidentflow import metrics
from incidentflow.components.base import RejectionCode
from incidentflow.engine.worker import Worker

HOOKS = """
name: hooks
nodes:
  - {name: On Incident, type: incident.onIncident}
  - {name: Done, type: noop}
edges:
  - {from: On Incident, to: Done}
"""
BODY = json.dumps({"event_type": "public_incident.incident_created_v2",
                   "public_incident.incident_created_v2": {"id": "01H", "name": "x"}}).encode()


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def deliveries(outcome: str, reason: str = "") -> float:
    return sample("incidentflow_webhook_deliveries_total", outcome=outcome, reason=reason)


def signed(secret: str, msg_id: str, body: bytes = BODY) -> dict[str, str]:
    return signed_headers(secret, body, msg_id)


@pytest.fixture
def hook(api: TestClient) -> dict[str, str]:
    put = api.put("/api/v1/canvases/hooks", content=HOOKS,
                  headers={"Content-Type": "application/yaml"})
    assert put.status_code == 200, put.text
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    answer = api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
                      json={"webhookSigningSecret": secret})
    url = answer.json()["live"]["webhookUrl"]
    return {"path": url.removeprefix("https://flows.example.com"), "secret": secret}


def test_deliveries_are_counted_by_outcome_and_reason(anon, hook):
    before = {k: deliveries(*k) for k in [("accepted",), ("duplicate",),
                                          ("rejected", "bad_signature"),
                                          ("rejected", "unknown_endpoint"),
                                          ("rejected", "too_large")]}
    timed = sample("incidentflow_webhook_handling_seconds_count")
    headers = signed(hook["secret"], "msg_1")
    assert anon.post(hook["path"], content=BODY, headers=headers).json()["status"] == "accepted"
    assert anon.post(hook["path"], content=BODY, headers=headers).json()["status"] == "duplicate"
    forged = {**headers, "webhook-id": "msg_2"}  # signature was made for msg_1
    assert anon.post(hook["path"], content=BODY, headers=forged).status_code == 403
    assert anon.post("/webhooks/unknown", content=BODY).status_code == 404
    big = b"{" + b" " * (600 * 1024) + b"}"
    assert anon.post(hook["path"], content=big, headers=headers).status_code == 413

    for key, expected in [(("accepted",), 1), (("duplicate",), 1),
                          (("rejected", "bad_signature"), 1),
                          (("rejected", "unknown_endpoint"), 1), (("rejected", "too_large"), 1)]:
        assert deliveries(*key) - before[key] == expected, key
    assert sample("incidentflow_webhook_handling_seconds_count") - timed == 5


def test_no_secret_is_its_own_reason(api, anon):
    api.put("/api/v1/canvases/hooks", content=HOOKS, headers={"Content-Type": "application/yaml"})
    path = api.get("/api/v1/canvases/hooks").json()["nodes"][0]["live"]["webhookUrl"]
    before = deliveries("rejected", "no_secret")
    anon.post(path.removeprefix("https://flows.example.com"), content=BODY,
              headers=signed("whsec_" + base64.b64encode(b"k" * 24).decode(), "m"))
    assert deliveries("rejected", "no_secret") - before == 1


def test_executions_queue_depth_and_waits(api, anon, app):
    apply_manual(api)
    for _ in range(2):
        assert api.post("/api/v1/canvases/manual/nodes/Start/run", json={}).status_code == 202
    text = anon.get("/metrics").text
    assert "incidentflow_queue_depth 2.0" in text
    assert "incidentflow_database_up 1.0" in text

    succeeded = sample("incidentflow_executions_total", result="succeeded")
    waits = sample("incidentflow_queue_wait_seconds_count")
    durations = sample("incidentflow_execution_duration_seconds_count")
    host = app.state.host
    worker = Worker(host.store, host.registry, host.box, host.http, host.settings)
    assert anyio.run(worker.drain) == 2

    assert sample("incidentflow_executions_total", result="succeeded") - succeeded == 2
    assert sample("incidentflow_queue_wait_seconds_count") - waits == 2
    assert sample("incidentflow_execution_duration_seconds_count") - durations == 2
    assert "incidentflow_queue_depth 0.0" in anon.get("/metrics").text


def test_metrics_show_no_secrets(api, anon, hook):
    anon.post(hook["path"], content=BODY, headers=signed(hook["secret"], "msg_s"))
    token = api.post("/api/v1/tokens", json={"name": "ci"}).json()["token"]
    response = anon.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for secret in (ADMIN_TOKEN, hook["secret"], token, hook["path"]):
        assert secret not in response.text


def test_a_metrics_token_protects_metrics(settings, store, test_registry):
    import httpx

    from incidentflow.web.app import create_app

    app = create_app(settings, store=store, registry=test_registry, http=httpx.AsyncClient(),
                     start_workers=False, metrics_token="m-secret-123", retention_days=0)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer m-secret-123"})
        assert ok.status_code == 200 and "incidentflow_executions_total" in ok.text


def test_readyz_follows_the_database_and_healthz_does_not(anon, store, monkeypatch):
    assert anon.get("/readyz").json() == {"status": "ready"}

    def down() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(store, "ping", down)
    answer = anon.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "reason": "database unavailable"}
    assert anon.get("/healthz").status_code == 200
    monkeypatch.setattr(store, "queue_depth", lambda now: down())
    assert "incidentflow_database_up 0.0" in anon.get("/metrics").text


@pytest.mark.parametrize("code", list(RejectionCode))
def test_a_rejection_is_labelled_by_its_code(code):
    assert metrics.reason_class(code.value) == code.value


def test_a_code_outside_the_set_cannot_grow_the_labels():
    assert metrics.reason_class("signing secret not set") == "other"
    assert metrics.reason_class("") == "other"


def test_a_stale_delivery_is_counted_and_logged_with_its_code(api, anon, hook):
    before = deliveries("rejected", "stale_timestamp")
    old = int(time.time()) - 3600
    headers = signed_headers(hook["secret"], BODY, "msg_old", old)
    assert anon.post(hook["path"], content=BODY, headers=headers).status_code == 403
    assert deliveries("rejected", "stale_timestamp") - before == 1
    log = api.get("/api/v1/canvases/hooks/nodes/On Incident/deliveries").json()["deliveries"]
    assert (log[0]["outcome"], log[0]["code"]) == ("rejected", "stale_timestamp")


def test_ids_carry_their_creation_time():
    from incidentflow.store.codec import new_id

    created = metrics.id_time(new_id())
    assert created is not None and abs(created.timestamp() - time.time()) < 60
    assert metrics.id_time("not-an-id") is None
