"""The create rate limit through the API: save warnings, which nodes are tripped and
what they hold, and ``POST /canvases/{name}/nodes/{node}/resume``."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from incidentflow.events import utcnow
from incidentflow.rate_limit import RateLimit

from .conftest import EMULATOR_KEY, EMULATOR_URL, put_yaml

MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"
LOOP = f"""
name: loop
nodes:
  - {{name: Start, type: start}}
  - {{name: On Incident, type: incident.onIncident}}
  - name: Create
    type: incident.createIncident
    integration: incident
    rateLimit: {{max: 1, per: 60}}
    configuration: {{name: "from a run", severityId: {MAJOR}}}
  - {{name: Log, type: noop, rateLimit: {{max: 5, per: 10}}}}
edges:
  - {{from: Start, to: Create}}
  - {{from: On Incident, to: Log}}
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this module tests the web layer; the store's own tests cover both."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def loop(api: TestClient) -> dict:
    answer = api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": EMULATOR_URL}})
    assert answer.status_code == 200, answer.text
    saved = put_yaml(api, "loop", LOOP)
    assert saved.status_code == 200, saved.text
    return dict(saved.json())


def trip_with_runs(api: TestClient, store, count: int) -> list[str]:
    """``count`` manual runs; a stand-in worker takes the slots: one runs, the rest held."""
    run_ids = [api.post("/api/v1/canvases/loop/nodes/Start/run", json={}).json()["runId"]
               for _ in range(count)]
    for job in store.claim("w1", utcnow(), 60, 100):
        store.take_create_slot(job.id, "w1", "loop", "Create", RateLimit(1, 60), {}, utcnow())
    return run_ids


def test_save_warns_that_the_canvas_can_feed_itself_and_of_an_unused_limit(loop) -> None:
    warnings = {(w["node"], w["field"]): w["message"] for w in loop["warnings"]}
    assert warnings[("Create", None)].startswith(
        "this canvas can feed itself: 'Create' creates incident.incident, which 'On Incident' "
        "listens for")
    assert warnings[("Create", None)].endswith(
        "Protected by the self-trigger guard of 'On Incident' and the rate limit of 'Create' "
        "(1 per 60 s).")
    assert warnings[("Log", "rateLimit")].startswith("has no effect: noop creates nothing")


def test_the_canvas_view_shows_limits_trips_and_held_counts(api, store, loop) -> None:
    before = api.get("/api/v1/canvases/loop").json()
    assert before["trippedNodes"] == []
    assert before["rateLimits"] == {"Create": {
        "max": 1, "per": 60, "tripped": False, "trippedAt": None, "held": 0,
        "windowStart": None, "windowCount": 0}}
    assert before["canvas"]["nodes"][2]["rateLimit"] == {"max": 1, "per": 60}

    run_ids = trip_with_runs(api, store, 3)
    view = api.get("/api/v1/canvases/loop").json()
    (tripped,) = view["trippedNodes"]
    assert (tripped["node"], tripped["held"]) == ("Create", 2) and tripped["trippedAt"]
    assert view["rateLimits"]["Create"]["tripped"] is True
    assert view["rateLimits"]["Create"]["windowCount"] == 1
    (listed,) = api.get("/api/v1/canvases").json()["canvases"]
    assert [(t["node"], t["held"]) for t in listed["trippedNodes"]] == [("Create", 2)]
    run = api.get(f"/api/v1/runs/{run_ids[2]}").json()
    assert run["state"] == "running"
    (execution,) = run["executions"]
    assert execution["state"] == "held" and execution["error"].startswith("node 'Create' went past")


def test_resume_with_release_queues_what_was_held(api, store, loop) -> None:
    run_ids = trip_with_runs(api, store, 3)
    answer = api.post("/api/v1/canvases/loop/nodes/Create/resume", json={"held": "release"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"canvas": "loop", "node": "Create", "held": "release",
                             "released": 2, "discarded": 0}
    assert api.get("/api/v1/canvases/loop").json()["trippedNodes"] == []
    states = [api.get(f"/api/v1/runs/{r}").json()["executions"][0]["state"] for r in run_ids]
    assert states == ["running", "queued", "queued"]


def test_resume_with_discard_finishes_the_runs(api, store, loop) -> None:
    run_ids = trip_with_runs(api, store, 2)
    answer = api.post("/api/v1/canvases/loop/nodes/Create/resume", json={"held": "discard"})
    assert answer.json()["discarded"] == 1
    run = api.get(f"/api/v1/runs/{run_ids[1]}").json()
    assert run["state"] == "succeeded" and run["executions"][0]["state"] == "discarded"


@pytest.mark.parametrize(("body", "status"), [
    ({"held": "maybe"}, 422), ({}, 422), ({"held": ["release"]}, 422),
])
def test_resume_says_what_is_wrong_with_the_choice(api, loop, body, status) -> None:
    answer = api.post("/api/v1/canvases/loop/nodes/Create/resume", json=body)
    assert answer.status_code == status
    (problem,) = answer.json()["problems"]
    assert problem == {"node": "Create", "field": "held",
                       "message": 'must be "release" or "discard"'}


def test_resume_of_unknown_things_and_bad_bodies(api, anon, loop) -> None:
    release = {"held": "release"}
    assert api.post("/api/v1/canvases/loop/nodes/Nope/resume", json=release).status_code == 404
    assert api.post("/api/v1/canvases/nope/nodes/Create/resume", json=release).status_code == 404
    assert api.post("/api/v1/canvases/loop/nodes/Create/resume",
                    content=b"{oops").status_code == 400
    assert anon.post("/api/v1/canvases/loop/nodes/Create/resume",
                     json=release).status_code == 401
