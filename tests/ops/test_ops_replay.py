"""Replaying a run: the same trigger event, a new run on the current canvas version,
new executions (so new idempotency keys)."""

from __future__ import annotations

from ops_support import MANUAL_YAML, apply_manual


def test_replay_starts_a_new_run_from_the_same_event(api):
    apply_manual(api)
    original = api.post("/api/v1/canvases/manual/nodes/Start/run",
                        json={"title": "db down"}).json()["runId"]
    apply_manual(api, MANUAL_YAML.replace("{name: Done, type: noop}",
                                          "{name: Done, type: noop, configuration: {}}")
                 + "description: v2\n")

    answer = api.post(f"/api/v1/runs/{original}/replay")

    assert answer.status_code == 202
    replayed = answer.json()["runId"]
    assert replayed != original and answer.json()["replayOf"] == original
    old, new = (api.get(f"/api/v1/runs/{r}").json() for r in (original, replayed))
    assert new["root"] == old["root"]
    assert (old["canvasVersion"], new["canvasVersion"]) == (1, 2)
    assert [e["node"] for e in new["executions"]] == ["Done"]
    old_keys = {e["idempotencyKey"] for e in old["executions"]}
    assert not old_keys & {e["idempotencyKey"] for e in new["executions"]}


def test_replay_of_an_unknown_run_is_404(api):
    answer = api.post("/api/v1/runs/nope/replay")
    assert answer.status_code == 404
    assert "nope" in answer.json()["error"]


def test_replay_when_the_trigger_node_is_gone_is_422(api):
    apply_manual(api)
    run = api.post("/api/v1/canvases/manual/nodes/Start/run", json={}).json()["runId"]
    apply_manual(api, MANUAL_YAML.replace("Start", "Begin"))
    answer = api.post(f"/api/v1/runs/{run}/replay")
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["node"] == "Start"
