"""``incidentflow approve|reject RUN NODE``, ``approvals`` and ``runs cancel`` against a
live server (real HTTP, its in-process worker running the approval)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from helpers import wait_until

from .conftest import ADMIN_TOKEN, Live

CANVAS = """
name: {name}
nodes:
  - {{name: Start, type: start}}
  - name: Ask
    type: approval
    configuration: {{message: "Go ahead with {{{{ root.data.what }}}}?"}}
  - {{name: Yes, type: noop}}
  - {{name: No, type: noop}}
edges:
  - {{from: Start, to: Ask}}
  - {{from: Ask, to: Yes, channel: approved}}
  - {{from: Ask, to: No, channel: rejected}}
"""


def run_of(live: Live, run_id: str) -> dict:
    answer = httpx.get(f"{live.url}/api/v1/runs/{run_id}",
                       headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    answer.raise_for_status()
    return dict(answer.json())


def waiting_run(invoke: Any, live: Live, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(CANVAS.format(name=name))
    assert invoke("apply", str(path)).exit_code == 0
    started = invoke("run", name, "Start", "--payload", '{"what": "the rollback"}', "--json")
    run_id = str(json.loads(started.stdout)["runId"])
    wait_until(lambda: run_of(live, run_id)["waitingFor"], timeout=5, interval=0.02,
               what="the approval to wait")
    return run_id


def finished(live: Live, run_id: str) -> dict:
    return wait_until(lambda: (run := run_of(live, run_id))["state"] != "running" and run,
                      timeout=5, interval=0.02, what="the run to end")


def test_approve_with_a_comment_then_a_second_decision_is_refused(
        invoke: Any, live: Live, tmp_path: Path) -> None:
    run_id = waiting_run(invoke, live, tmp_path, "cli-approve")
    listed = invoke("approvals", "--json")
    assert listed.exit_code == 0, listed.output
    assert [a["runId"] for a in json.loads(listed.stdout)] == [run_id]
    assert "rollback?" in invoke("approvals").stdout  # the message, wrapped in its cell

    approved = invoke("approve", run_id, "Ask", "--comment", "checked the graphs")
    assert approved.exit_code == 0, approved.output
    assert f"Ask of run {run_id}: approved by admin" in approved.stdout
    run = finished(live, run_id)
    assert run["state"] == "succeeded"
    ask = next(e for e in run["executions"] if e["node"] == "Ask")
    assert ask["emitted"][0]["event"]["data"]["comment"] == "checked the graphs"
    assert {e["node"] for e in run["executions"]} == {"Ask", "Yes"}

    again = invoke("reject", run_id, "Ask")
    assert again.exit_code != 0
    assert "already decided: approved by admin" in again.output


def test_reject_goes_on_by_the_rejected_channel(invoke: Any, live: Live,
                                                tmp_path: Path) -> None:
    run_id = waiting_run(invoke, live, tmp_path, "cli-reject")
    rejected = invoke("reject", run_id, "Ask", "--json")
    assert rejected.exit_code == 0, rejected.output
    assert json.loads(rejected.stdout)["decision"] == "rejected"
    run = finished(live, run_id)
    assert {e["node"] for e in run["executions"]} == {"Ask", "No"}


def test_runs_cancel_a_waiting_run_and_not_twice(invoke: Any, live: Live,
                                                 tmp_path: Path) -> None:
    run_id = waiting_run(invoke, live, tmp_path, "cli-cancel")
    cancelled = invoke("runs", "cancel", run_id)
    assert cancelled.exit_code == 0, cancelled.output
    assert f"run {run_id} cancelled" in cancelled.stdout
    assert run_of(live, run_id)["state"] == "cancelled"
    again = invoke("runs", "cancel", run_id)
    assert again.exit_code != 0 and "already ended (cancelled)" in again.output
