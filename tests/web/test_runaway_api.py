"""The runaway brakes over the API and the webhook receiver: pause/resume, the delivery
log (contract paths), and the self-trigger guard's answer to a delivery (2xx, logged
as ignored with its reason, counted)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from incidentflow import metrics
from incidentflow.events import utcnow
from incidentflow.settings import Settings
from incidentflow.store import guards

from .conftest import (
    EMULATOR_KEY,
    EMULATOR_URL,
    MANUAL_CANVAS,
    WEBHOOK_CANVAS,
    new_signing_secret,
    put_yaml,
    signed_headers,
)

EXAMPLES = Path(__file__).parents[1] / "data" / "incidentio-webhook-examples"
CREATED = (EXAMPLES / "public_incident.incident_created_v2.json").read_bytes()
INCIDENT_ID = json.loads(CREATED)["public_incident.incident_created_v2"]["id"]
MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"
LOOP = f"""
name: loop
nodes:
  - {{name: On Incident, type: incident.onIncident, configuration: CONFIG}}
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration: {{name: "Follow-up", severityId: {MAJOR}}}
edges:
  - {{from: On Incident, to: Open follow-up}}
"""


@pytest.fixture
def store(sql_store):
    """The guard's records are written with SQL below (as the worker's finish leaves
    them): the SQL store."""
    return sql_store


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A short wait for in-flight creates, so the "gives up" case stays quick."""
    return replace(settings, self_trigger_wait_seconds=1.5)


def deliver(api: TestClient, hook: dict, body: bytes = CREATED, msg_id: str | None = None):
    return api.post(hook["path"], content=body,
                    headers=signed_headers(hook["secret"], body, msg_id=msg_id))


def with_secret(api: TestClient, canvas: str) -> dict:
    secret = new_signing_secret()
    answer = api.post(f"/api/v1/canvases/{canvas}/nodes/On Incident/hooks/setSecret",
                      json={"webhookSigningSecret": secret})
    assert answer.status_code == 200, answer.text
    url = answer.json()["live"]["webhookUrl"]
    return {"path": "/webhooks/" + url.rsplit("/", 1)[1], "secret": secret}


def deliveries(api: TestClient, canvas: str = "hooks", node: str = "On Incident",
               query: str = "") -> list[dict]:
    response = api.get(f"/api/v1/canvases/{canvas}/nodes/{node}/deliveries{query}")
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def runs_of(api: TestClient, canvas: str = "hooks") -> list[dict]:
    return list(api.get(f"/api/v1/canvases/{canvas}/runs").json()["runs"])


@pytest.fixture
def hooks(api: TestClient) -> dict:
    assert put_yaml(api, "hooks", WEBHOOK_CANVAS).status_code == 200
    return with_secret(api, "hooks")


@pytest.fixture
def loop(api: TestClient):
    """On Incident -> Create Incident; returns a maker taking the trigger's config."""
    answer = api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": EMULATOR_URL}})
    assert answer.status_code == 200, answer.text

    def make(config: str = "{}") -> dict:
        saved = put_yaml(api, "loop", LOOP.replace("CONFIG", config))
        assert saved.status_code == 200, saved.text
        return with_secret(api, "loop")

    return make


def created_by_canvas(store, canvas: str, object_id: str, run_id: str = "run-1") -> None:
    """As the worker leaves it once Create Incident's success is recorded."""
    with store._db.write() as conn:
        guards.begin(conn, canvas, "incident.incident", f"ex-{object_id}", run_id, utcnow())
        conn.execute(guards.MARK_CREATED,
                     guards.created_rows([(f"ex-{object_id}", object_id, utcnow())]))


def self_triggered_count() -> float:
    return metrics.DELIVERIES.labels(outcome="ignored", reason="self_triggered")._value.get()


# -- the self-trigger guard at the receiver ------------------------------------------------

def test_an_event_about_an_incident_the_canvas_created_is_ignored(api, loop, store) -> None:
    hook = loop()
    created_by_canvas(store, "loop", INCIDENT_ID)
    before = self_triggered_count()
    response = deliver(api, hook, msg_id="msg_self")
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert runs_of(api, "loop") == []
    [entry] = deliveries(api, "loop")
    assert (entry["webhookId"], entry["outcome"], entry["runId"]) == ("msg_self", "ignored", None)
    assert entry["reason"] == (f"self-triggered: incident.incident {INCIDENT_ID} was created "
                               "by this canvas (run run-1)")
    live = api.get("/api/v1/canvases/loop").json()["nodes"][0]["live"]
    assert live["deliveries"]["ignored"] == 1
    assert self_triggered_count() == before + 1


def test_an_event_about_someone_elses_incident_starts_a_run(api, loop, store) -> None:
    hook = loop()
    created_by_canvas(store, "loop", "01SOMETHINGELSE")
    assert deliver(api, hook).json() == {"status": "accepted"}
    assert len(runs_of(api, "loop")) == 1


def test_a_trigger_can_opt_in_to_self_triggered_runs(api, loop, store) -> None:
    hook = loop("{allowSelfTriggered: true}")
    created_by_canvas(store, "loop", INCIDENT_ID)
    assert deliver(api, hook).json() == {"status": "accepted"}
    assert len(runs_of(api, "loop")) == 1


def test_the_guard_is_per_canvas(api, hooks, loop, store) -> None:
    """``hooks`` creates nothing: what ``loop`` created may start it."""
    loop()
    created_by_canvas(store, "loop", INCIDENT_ID)
    assert deliver(api, hooks).json() == {"status": "accepted"}


def test_the_opt_in_must_be_a_boolean(api, loop) -> None:
    answer = put_yaml(api, "loop", LOOP.replace("CONFIG", '{allowSelfTriggered: "yes"}'))
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert (problem["node"], problem["field"]) == (
        "On Incident", "configuration.allowSelfTriggered")


def test_a_create_in_flight_holds_the_delivery_then_lets_it_through(api, loop, store) -> None:
    """A create that never answers (its worker died) delays deliveries at most the
    configured wait (1.5 s here), then they run: no delivery is lost to the guard."""
    hook = loop()
    store.begin_create("loop", "incident.incident", "ex-stuck", "run-9", utcnow())
    started = time.monotonic()
    assert deliver(api, hook).json() == {"status": "accepted"}
    assert time.monotonic() - started >= 1.5
    store.forget_create("ex-stuck")


def test_an_incident_a_person_declared_never_waits(api, loop, store) -> None:
    """Its creator is a user, not an API key: no Create Incident made it."""
    hook = loop()
    store.begin_create("loop", "incident.incident", "ex-stuck", "run-9", utcnow())
    payload = json.loads(CREATED)
    incident = payload["public_incident.incident_created_v2"]
    incident["creator"] = {"user": incident["creator"]["user"]}
    started = time.monotonic()
    assert deliver(api, hook, json.dumps(payload).encode()).json() == {"status": "accepted"}
    assert time.monotonic() - started < 1.0


# -- pause and resume ------------------------------------------------------------------------

def test_a_paused_canvas_acknowledges_and_keeps_deliveries(api, hooks) -> None:
    paused = api.post("/api/v1/canvases/hooks/pause")
    assert paused.status_code == 200
    assert paused.json()["paused"] is True and paused.json()["pausedAt"]
    response = deliver(api, hooks, msg_id="msg_while_paused")
    assert response.status_code == 200 and response.json() == {"status": "paused"}
    assert runs_of(api) == []
    [entry] = deliveries(api)
    assert (entry["outcome"], entry["heldEvents"], entry["webhookId"]) == (
        "paused", 1, "msg_while_paused")
    assert api.get("/api/v1/canvases/hooks").json()["paused"] is True
    listed = {c["name"]: c for c in api.get("/api/v1/canvases").json()["canvases"]}
    assert listed["hooks"]["paused"] is True
    assert api.post("/api/v1/canvases/hooks/pause").json()["pendingDeliveries"] == 1


def test_resume_needs_a_choice_when_deliveries_are_held(api, hooks) -> None:
    api.post("/api/v1/canvases/hooks/pause")
    deliver(api, hooks)
    refused = api.post("/api/v1/canvases/hooks/resume")
    assert refused.status_code == 409
    assert "run or discard" in refused.json()["error"]
    bad = api.post("/api/v1/canvases/hooks/resume", json={"pending": "later"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "pending"
    assert api.get("/api/v1/canvases/hooks").json()["paused"] is True


def test_resume_and_run_what_arrived(api, hooks) -> None:
    api.post("/api/v1/canvases/hooks/pause")
    deliver(api, hooks)
    resumed = api.post("/api/v1/canvases/hooks/resume", json={"pending": "run"})
    assert resumed.status_code == 200
    body = resumed.json()
    assert (body["paused"], body["pending"], body["discarded"]) == (False, "run", 0)
    [run] = runs_of(api)
    assert body["runIds"] == [run["id"]]
    [entry] = deliveries(api)
    assert (entry["runId"], entry["heldEvents"]) == (run["id"], 0)
    assert deliver(api, hooks).json() == {"status": "accepted"}


def test_resume_and_discard_what_arrived(api, hooks) -> None:
    api.post("/api/v1/canvases/hooks/pause")
    deliver(api, hooks)
    body = api.post("/api/v1/canvases/hooks/resume", json={"pending": "discard"}).json()
    assert (body["runIds"], body["discarded"]) == ([], 1)
    assert runs_of(api) == []


def test_resuming_with_nothing_held_needs_no_choice(api, hooks) -> None:
    api.post("/api/v1/canvases/hooks/pause")
    body = api.post("/api/v1/canvases/hooks/resume").json()
    assert body["paused"] is False and body["pending"] is None


def test_manual_runs_and_replays_of_a_paused_canvas_are_409(api) -> None:
    put_yaml(api, "manual", MANUAL_CANVAS)
    run_id = api.post("/api/v1/canvases/manual/nodes/Start/run", json={}).json()["runId"]
    api.post("/api/v1/canvases/manual/pause")
    refused = api.post("/api/v1/canvases/manual/nodes/Start/run", json={"severity": "major"})
    assert refused.status_code == 409
    assert refused.json()["error"].startswith("canvas 'manual' is paused")
    assert api.post(f"/api/v1/runs/{run_id}/replay").status_code == 409
    assert len(runs_of(api, "manual")) == 1
    api.post("/api/v1/canvases/manual/resume")
    assert api.post("/api/v1/canvases/manual/nodes/Start/run", json={}).status_code == 202


# -- the delivery log ------------------------------------------------------------------------

def test_the_delivery_log_is_newest_first_and_limited(api, hooks) -> None:
    for n in range(3):
        deliver(api, hooks, msg_id=f"msg_{n}")
    api.post(hooks["path"], content=CREATED,
             headers=signed_headers(new_signing_secret(), CREATED))  # a bad signature
    log = deliveries(api)
    assert [e["outcome"] for e in log] == ["rejected", "accepted", "accepted", "accepted"]
    assert [e["webhookId"] for e in log[1:]] == ["msg_2", "msg_1", "msg_0"]
    assert log[1]["runId"] and log[0]["reason"]
    assert len(deliveries(api, query="?limit=2")) == 2


@pytest.mark.parametrize("limit", ["0", "501", "x"])
def test_a_bad_limit_is_400(api, hooks, limit) -> None:
    answer = api.get(f"/api/v1/canvases/hooks/nodes/On Incident/deliveries?limit={limit}")
    assert answer.status_code == 400


@pytest.mark.parametrize("path", [
    "/api/v1/canvases/nope/nodes/On Incident/deliveries",
    "/api/v1/canvases/hooks/nodes/Nope/deliveries",
    "/api/v1/canvases/hooks/nodes/Done/deliveries",  # not a webhook trigger
])
def test_unknown_canvas_or_node_is_404(api, hooks, path) -> None:
    assert api.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/canvases/nope/pause", "/api/v1/canvases/nope/resume"])
def test_pausing_an_unknown_canvas_is_404(api, path) -> None:
    assert api.post(path).status_code == 404


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/v1/canvases/hooks/pause"),
    ("POST", "/api/v1/canvases/hooks/resume"),
    ("GET", "/api/v1/canvases/hooks/nodes/On Incident/deliveries"),
])
def test_without_a_token_it_is_401(anon, api, hooks, method, path) -> None:
    assert anon.request(method, path).status_code == 401
    assert api.get("/api/v1/canvases/hooks").json()["paused"] is False
