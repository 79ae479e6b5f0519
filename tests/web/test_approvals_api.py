"""Approvals and cancelling runs through the API (SQLite and PostgreSQL): decided once,
by an approver, never after the timeout; what a run waits for; cancel answers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from starlette.testclient import TestClient

from incidentflow.crypto import SecretBox
from incidentflow.engine.worker import Worker
from incidentflow.registry import Registry
from incidentflow.settings import Settings

from .conftest import put_yaml

CANVAS = """
name: publish
nodes:
  - {name: Start, type: start}
  - name: Ask
    type: approval
    configuration:
      message: "Publish the status page for {{ root.data.what }}?"
      approvers: APPROVERS
      timeoutSeconds: TIMEOUT
  - {name: Yes, type: noop}
  - {name: No, type: noop}
  - {name: Late, type: noop}
edges:
  - {from: Start, to: Ask}
  - {from: Ask, to: Yes, channel: approved}
  - {from: Ask, to: No, channel: rejected}
  - {from: Ask, to: Late, channel: timeout}
"""


def canvas(approvers: str = "[]", timeout: str = "600") -> str:
    return CANVAS.replace("APPROVERS", approvers).replace("TIMEOUT", timeout)


class Engine:
    """Runs what is due, in the test's thread (the app's own worker is off)."""

    def __init__(self, store: Any, registry: Registry, settings: Settings,
                 http: httpx.AsyncClient):
        self.worker = Worker(store, registry, SecretBox(settings.secret_key), http, settings)

    def drain(self) -> int:
        return asyncio.run(self.worker.drain())


def engine(store: Any, test_registry: Registry, settings: Settings,
           emulator_http: httpx.AsyncClient) -> Engine:
    return Engine(store, test_registry, settings, emulator_http)


def start_waiting(api: TestClient, eng: Engine, source: str) -> str:
    assert put_yaml(api, "publish", source).status_code == 200
    run_id = api.post("/api/v1/canvases/publish/nodes/Start/run",
                      json={"what": "INC-7"}).json()["runId"]
    eng.drain()
    return str(run_id)


def token_for(api: TestClient, name: str) -> dict[str, str]:
    created = api.post("/api/v1/tokens", json={"name": name}).json()
    return {"Authorization": f"Bearer {created['token']}"}


def executions(api: TestClient, run_id: str) -> dict[str, dict]:
    return {e["node"]: e for e in api.get(f"/api/v1/runs/{run_id}").json()["executions"]}


def test_the_run_shows_what_it_waits_for_and_an_approver_decides(
        api, store, test_registry, settings, emulator_http):
    eng = engine(store, test_registry, settings, emulator_http)
    run_id = start_waiting(api, eng, canvas('["lead"]'))
    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["state"] == "running"
    [waiting] = run["waitingFor"]
    assert waiting["kind"] == "approval" and waiting["node"] == "Ask"
    assert waiting["summary"] == "approval: Publish the status page for INC-7?"
    assert waiting["detail"] == {"message": "Publish the status page for INC-7?",
                                 "approvers": ["lead"]}
    assert waiting["until"] is not None
    lead = token_for(api, "lead")
    listed = api.get("/api/v1/approvals", headers=lead).json()["approvals"]
    assert [(a["runId"], a["node"]) for a in listed] == [(run_id, "Ask")]
    assert api.get("/api/v1/approvals").json()["approvals"] == []  # admin is not named

    answer = api.post(f"/api/v1/runs/{run_id}/approvals/Ask", headers=lead,
                      json={"decision": "approve", "comment": "looks right"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["decision"] == "approved" and answer.json()["by"] == "lead"
    eng.drain()
    done = executions(api, run_id)
    assert done["Yes"]["state"] == "succeeded" and "No" not in done
    data = done["Ask"]["emitted"][0]["event"]["data"]
    assert data["decision"] == "approved" and data["by"] == "lead"
    assert data["comment"] == "looks right" and data["at"]
    final = api.get(f"/api/v1/runs/{run_id}").json()
    assert final["state"] == "succeeded" and final["waitingFor"] == []


def test_a_second_decision_answers_409_and_changes_nothing(
        api, store, test_registry, settings, emulator_http):
    eng = engine(store, test_registry, settings, emulator_http)
    run_id = start_waiting(api, eng, canvas())
    first = api.post(f"/api/v1/runs/{run_id}/approvals/Ask", json={"decision": "reject"})
    assert first.status_code == 200
    again = api.post(f"/api/v1/runs/{run_id}/approvals/Ask",
                     json={"decision": "approve", "comment": "changed my mind"})
    assert again.status_code == 409
    assert "already decided: rejected by admin" in again.json()["error"]
    eng.drain()
    done = executions(api, run_id)
    assert "No" in done and "Yes" not in done


def test_a_decision_after_the_timeout_answers_409(
        api, store, test_registry, settings, emulator_http):
    eng = engine(store, test_registry, settings, emulator_http)
    run_id = start_waiting(api, eng, canvas(timeout="0.3"))
    time.sleep(0.5)  # past its time, not yet run by a worker: still refused
    late = api.post(f"/api/v1/runs/{run_id}/approvals/Ask", json={"decision": "approve"})
    assert late.status_code == 409
    assert "timed out" in late.json()["error"]
    eng.drain()
    done = executions(api, run_id)
    assert done["Late"]["state"] == "succeeded" and "Yes" not in done
    assert done["Ask"]["emitted"][0]["event"]["data"]["decision"] == "timeout"
    after = api.post(f"/api/v1/runs/{run_id}/approvals/Ask", json={"decision": "approve"})
    assert after.status_code == 409


def test_someone_not_among_the_approvers_gets_403(
        api, store, test_registry, settings, emulator_http):
    eng = engine(store, test_registry, settings, emulator_http)
    run_id = start_waiting(api, eng, canvas('"lead, deputy"'))
    other = token_for(api, "intern")
    refused = api.post(f"/api/v1/runs/{run_id}/approvals/Ask", headers=other,
                       json={"decision": "approve"})
    assert refused.status_code == 403
    assert "'intern' is not one of the approvers" in refused.json()["error"]
    assert api.post(f"/api/v1/runs/{run_id}/approvals/Ask",
                    json={"decision": "approve"}).status_code == 403  # admin neither
    deputy = token_for(api, "deputy")
    assert api.post(f"/api/v1/runs/{run_id}/approvals/Ask", headers=deputy,
                    json={"decision": "approve"}).status_code == 200


def test_bad_decisions_name_the_field_and_unknown_targets_are_404(
        api, store, test_registry, settings, emulator_http):
    eng = engine(store, test_registry, settings, emulator_http)
    run_id = start_waiting(api, eng, canvas())
    bad = api.post(f"/api/v1/runs/{run_id}/approvals/Ask",
                   json={"decision": "maybe", "comment": 5})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} == {"decision", "comment"}
    for body in ({"decision": ["approve"]}, {"decision": {"a": 1}}, {}):
        odd = api.post(f"/api/v1/runs/{run_id}/approvals/Ask", json=body)
        assert odd.status_code == 422 and odd.json()["problems"][0]["field"] == "decision"
    assert api.post(f"/api/v1/runs/{run_id}/approvals/Ask", content=b"[1]",
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post(f"/api/v1/runs/{run_id}/approvals/Yes",
                    json={"decision": "approve"}).status_code == 404
    assert api.post("/api/v1/runs/nope/approvals/Ask",
                    json={"decision": "approve"}).status_code == 404
    # Nothing was recorded by the refused requests.
    assert api.post(f"/api/v1/runs/{run_id}/approvals/Ask",
                    json={"decision": "approve"}).status_code == 200


def test_cancel_a_waiting_run_then_409_once_it_has_ended(
        api, store, test_registry, settings, emulator_http):
    eng = engine(store, test_registry, settings, emulator_http)
    run_id = start_waiting(api, eng, canvas())
    cancelled = api.post(f"/api/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json() == {"runId": run_id, "state": "cancelled"}
    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["state"] == "cancelled" and run["waitingFor"] == []
    assert executions(api, run_id)["Ask"]["state"] == "cancelled"
    assert api.post(f"/api/v1/runs/{run_id}/approvals/Ask",
                    json={"decision": "approve"}).status_code == 409
    assert eng.drain() == 0  # nothing of it runs
    again = api.post(f"/api/v1/runs/{run_id}/cancel")
    assert again.status_code == 409 and "already ended (cancelled)" in again.json()["error"]
    assert api.post("/api/v1/runs/nope/cancel").status_code == 404


def test_metrics_count_waiting_executions_by_kind(
        api, store, test_registry, settings, emulator_http):
    eng = engine(store, test_registry, settings, emulator_http)
    run_id = start_waiting(api, eng, canvas())
    scraped = api.get("/metrics").text
    assert 'incidentflow_waiting_executions{kind="approval"} 1.0' in scraped
    assert 'incidentflow_waiting_executions{kind="wait"} 0.0' in scraped
    assert 'incidentflow_waiting_executions{kind="retry"} 0.0' in scraped
    api.post(f"/api/v1/runs/{run_id}/cancel")
    assert ('incidentflow_waiting_executions{kind="approval"} 0.0'
            in api.get("/metrics").text)


def test_the_openapi_document_lists_the_new_paths(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/runs/{run_id}/approvals/{node}"]
    assert "403" in paths["/api/v1/runs/{run_id}/approvals/{node}"]["post"]["responses"]
    assert "post" in paths["/api/v1/runs/{run_id}/cancel"]
    assert "get" in paths["/api/v1/approvals"]
