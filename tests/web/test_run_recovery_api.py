"""Runs at scale and recovery through the API: filters, paging with a total, the
incident on every row, replay (one and many), retry of a failed execution, attempts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import GATED_CANVAS as GATED
from starlette.testclient import TestClient

from incidentflow.registry import Registry
from incidentflow.settings import Settings

from .conftest import put_yaml
from .test_runs_api import drain


@pytest.fixture
def gated(api: TestClient, store: Any, test_registry: Registry, settings: Settings,
          emulator_http: httpx.AsyncClient) -> Any:
    assert put_yaml(api, "gated", GATED).status_code == 200

    def run(payload: dict[str, Any]) -> str:
        answer = api.post("/api/v1/canvases/gated/nodes/Start/run", json=payload)
        assert answer.status_code == 202
        return str(answer.json()["runId"])

    def work() -> int:
        return drain(store, test_registry, settings, emulator_http)

    return run, work


def set_gate(api: TestClient, value: str) -> None:
    answer = api.put("/api/v1/secrets/GATE", json={"value": value})
    assert answer.status_code == 200, answer.text


def incident(n: int) -> dict[str, Any]:
    return {"incident": {"reference": f"INC-{n}", "name": f"Database {n} down"}}


def test_the_run_list_pages_filters_and_names_the_incident(api, gated) -> None:
    run, work = gated
    failed = [run(incident(n)) for n in range(3)]
    work()  # GATE is not set: each run fails at Gate
    set_gate(api, "open-sesame")
    passed = [run(incident(n)) for n in range(3, 5)]
    work()
    first = api.get("/api/v1/canvases/gated/runs?limit=2").json()
    assert first["total"] == 5 and [r["id"] for r in first["runs"]] == passed[::-1]
    assert first["runs"][0]["incident"] == {"reference": "INC-4", "name": "Database 4 down",
                                            "permalink": None}
    second = api.get(f"/api/v1/canvases/gated/runs?limit=2&before={first['nextBefore']}")
    assert [r["id"] for r in second.json()["runs"]] == failed[:0:-1]
    only_failed = api.get("/api/v1/canvases/gated/runs?state=failed").json()
    assert only_failed["total"] == 3 and only_failed["nextBefore"] is None
    assert {r["id"] for r in only_failed["runs"]} == set(failed)
    reached_done = api.get("/api/v1/canvases/gated/runs?node=Done").json()
    assert {r["id"] for r in reached_done["runs"]} == set(passed)
    assert api.get("/api/v1/canvases/gated/runs?since=1h").json()["total"] == 5
    assert api.get("/api/v1/canvases/gated/runs?until=2020-01-01T00:00:00Z").json()["total"] == 0


@pytest.mark.parametrize(("query", "field", "message"), [
    ("state=broken", "state", "unknown state 'broken'"),
    ("since=yesterday", "since", "neither a time"),
    ("since=1h&until=2h", "until", "must be later than since"),
])
def test_bad_filters_name_the_field(api, gated, query, field, message) -> None:
    answer = api.get(f"/api/v1/canvases/gated/runs?{query}")
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert problem["field"] == field and message in problem["message"]


def test_a_failed_execution_is_retried_with_its_key_and_its_attempts_kept(api, gated) -> None:
    run, work = gated
    run_id = run({})
    work()
    failed = api.get(f"/api/v1/runs/{run_id}").json()
    [gate] = failed["executions"]
    assert failed["state"] == "failed" and "GATE" in gate["error"]
    set_gate(api, "open-sesame")
    retried = api.post(f"/api/v1/runs/{run_id}/executions/{gate['id']}/retry")
    assert retried.status_code == 202 and retried.json()["state"] == "running"
    work()
    after = api.get(f"/api/v1/runs/{run_id}").json()
    assert after["state"] == "succeeded"
    gate_after = after["executions"][0]
    assert gate_after["idempotencyKey"] == gate["idempotencyKey"]
    history = gate_after["attemptHistory"]
    assert [(a["attempt"], a["outcome"]) for a in history] == [(1, "failed"), (2, "succeeded")]
    assert "GATE" in history[0]["error"]
    again = api.post(f"/api/v1/runs/{run_id}/executions/{gate['id']}/retry")
    assert again.status_code == 409 and "only a failed execution" in again.json()["error"]
    assert api.post(f"/api/v1/runs/{run_id}/executions/nope/retry").status_code == 404


def test_a_replay_is_linked_both_ways_and_a_filtered_run_says_where_it_stopped(api, gated):
    run, work = gated
    set_gate(api, "closed-shut")
    run_id = run(incident(1))
    work()
    stopped = api.get(f"/api/v1/runs/{run_id}").json()
    assert stopped["state"] == "succeeded"
    assert stopped["stoppedAt"] == [
        {"node": "Gate", "reason": "its condition was false, so it passed nothing on"}]
    set_gate(api, "open-sesame")
    new_id = api.post(f"/api/v1/runs/{run_id}/replay").json()["runId"]
    work()
    replay = api.get(f"/api/v1/runs/{new_id}").json()
    assert replay["replayOf"] == run_id and replay["root"] == stopped["root"]
    assert [e["node"] for e in replay["executions"]] == ["Gate", "Done"]
    assert replay["stoppedAt"] == []  # it went all the way
    assert api.get(f"/api/v1/runs/{run_id}").json()["replayedAs"] == [new_id]


def test_bulk_replay_of_the_failed_runs_with_a_dry_run_and_progress(api, gated) -> None:
    run, work = gated
    failed = [run(incident(n)) for n in range(3)]
    work()
    set_gate(api, "open-sesame")
    run(incident(9))
    work()
    query = {"canvas": "gated", "state": "failed", "since": "1h"}
    dry = api.post("/api/v1/runs/replay", json={**query, "dryRun": True}).json()
    assert dry == {"matched": 3, "wouldReplay": 3, "max": 500}
    assert len(api.get("/api/v1/canvases/gated/runs").json()["runs"]) == 4  # nothing started
    bulk = api.post("/api/v1/runs/replay", json=query)
    assert bulk.status_code == 202
    body = bulk.json()
    assert body["count"] == 3 and body["matched"] == 3 and body["skipped"] == {}
    progress = api.get(f"/api/v1/replays/{body['batch']}").json()
    assert progress == {"total": 3, "done": 0, "byState": {"running": 3}}
    work()
    assert api.get(f"/api/v1/replays/{body['batch']}").json() == {
        "total": 3, "done": 3, "byState": {"succeeded": 3}}
    replays = [api.get(f"/api/v1/runs/{i}").json() for i in body["runIds"]]
    assert [r["replayOf"] for r in replays] == failed
    by_ids = api.post("/api/v1/runs/replay", json={"canvas": "gated", "ids": failed[:1]})
    assert by_ids.json()["count"] == 1


def test_bulk_replay_needs_a_canvas_and_a_choice(api, gated) -> None:
    no_canvas = api.post("/api/v1/runs/replay", json={"state": "failed"})
    assert no_canvas.status_code == 422
    assert no_canvas.json()["problems"][0]["field"] == "canvas"
    no_choice = api.post("/api/v1/runs/replay", json={"canvas": "gated"})
    assert no_choice.status_code == 422
    bad_ids = api.post("/api/v1/runs/replay", json={"canvas": "gated", "ids": []})
    assert bad_ids.json()["problems"][0]["field"] == "ids"
    assert api.post("/api/v1/runs/replay", json={"canvas": "nope", "state": "failed"}
                    ).status_code == 404
    assert api.get("/api/v1/replays/nope").status_code == 404


def test_the_run_list_of_an_unknown_canvas_is_404(api) -> None:
    assert api.get("/api/v1/canvases/nope/runs").status_code == 404


def test_bulk_replay_skips_runs_whose_trigger_is_gone_and_starts_nothing_for_no_match(
    api, gated,
) -> None:
    run, work = gated
    run_id = run({})
    work()
    nothing = api.post("/api/v1/runs/replay", json={"canvas": "gated", "state": "running"})
    assert nothing.status_code == 202
    assert (nothing.json()["count"], nothing.json()["matched"]) == (0, 0)
    assert put_yaml(api, "gated", GATED.replace("Start", "Begin")).status_code == 200
    bulk = api.post("/api/v1/runs/replay", json={"canvas": "gated", "state": "failed"}).json()
    assert bulk["count"] == 0 and bulk["matched"] == 1
    assert bulk["skipped"] == {run_id: "the canvas no longer has node 'Start'"}
    assert api.get("/api/v1/canvases/gated/runs").json()["total"] == 1
