"""The CLI's runs commands at scale: filtered lists, retry of a failed execution,
bulk replay of the failed runs of a window with a confirmation."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from incidentflow.engine.worker import INTEGRATION_CACHE_SECONDS

CANVAS = """
name: {name}
nodes:
  - {{name: Start, type: start}}
  - name: Gate
    type: filter
    configuration: {{expression: "secrets.{secret} == 'open-sesame'"}}
edges:
  - {{from: Start, to: Gate}}
"""
SETTLE_DEADLINE = 30.0  # seconds: a bound for the in-process worker, not a timing claim


def wait_for(invoke: Any, args: tuple[str, ...], done: Any) -> Any:
    deadline = time.monotonic() + SETTLE_DEADLINE
    while True:
        answer = json.loads(invoke(*args, "--json").stdout)
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


@dataclass
class Failed:
    canvas: str
    secret: str
    run_ids: list[str]


@pytest.fixture
def failed_runs(invoke: Any, tmp_path: Path) -> Failed:
    """Two runs of a canvas of its own (the server is shared by the module) that failed
    because the secret its filter reads is not set."""
    suffix = secrets.token_hex(3)
    canvas, secret = f"cli-gated-{suffix}", f"CLI_GATE_{suffix.upper()}"
    path = tmp_path / "gated.yaml"
    path.write_text(CANVAS.format(name=canvas, secret=secret))
    assert invoke("apply", str(path)).exit_code == 0
    payload = json.dumps({"incident": {"reference": "INC-42", "name": "Checkout down"}})
    ids = [json.loads(invoke("run", canvas, "Start", "--payload", payload, "--json")
                      .stdout)["runId"] for _ in range(2)]
    failed = wait_for(invoke, ("runs", "list", canvas, "--state", "failed"),
                      lambda runs: len(runs) == 2)
    assert len(failed) == 2
    return Failed(canvas, secret, ids)


def test_list_filters_and_shows_the_incident(invoke: Any, failed_runs: Failed) -> None:
    plain = invoke("runs", "list", failed_runs.canvas, "--state", "failed", "--since", "1h",
                   "--limit", "1")
    assert plain.exit_code == 0, plain.output
    assert "INC-42" in plain.stdout and "1 of 2 runs" in plain.stdout
    assert "--before" in plain.stdout
    bad = invoke("runs", "list", failed_runs.canvas, "--since", "yesterday")
    assert bad.exit_code == 1 and "since" in bad.stderr


def test_retry_then_bulk_replay_of_the_failed_ones(invoke: Any, failed_runs: Failed) -> None:
    canvas, ids = failed_runs.canvas, failed_runs.run_ids
    assert invoke("secrets", "set", failed_runs.secret, "--value-stdin",
                  input="open-sesame\n").exit_code == 0
    time.sleep(INTEGRATION_CACHE_SECONDS + 0.5)  # the live worker's secrets cache runs out
    first = json.loads(invoke("runs", "show", ids[0], "--json").stdout)
    execution = first["executions"][0]["id"]
    retried = invoke("runs", "retry", ids[0], execution)
    assert retried.exit_code == 0, retried.output
    assert f"execution {execution} queued again" in retried.stdout
    run = wait_for(invoke, ("runs", "show", ids[0]), lambda r: r["state"] != "running")
    assert run["state"] == "succeeded"
    assert [a["outcome"] for a in run["executions"][0]["attemptHistory"]] == [
        "failed", "succeeded"]

    refused = invoke("runs", "replay", "--failed", "--since", "1h", "--canvas", canvas,
                     input="n\n")
    assert "Replay 1 runs of 1 canvas(es)?" in refused.stdout and refused.exit_code == 1
    bulk = invoke("runs", "replay", "--failed", "--since", "1h", "--canvas", canvas,
                  "--yes", "--json")
    assert bulk.exit_code == 0, bulk.output
    answer = json.loads(bulk.stdout)
    assert answer["count"] == 1
    [new_id] = answer["batches"][canvas]["runIds"]
    replay = wait_for(invoke, ("runs", "show", new_id), lambda r: r["state"] != "running")
    assert replay["replayOf"] == ids[1] and replay["state"] == "succeeded"
    nothing = invoke("runs", "replay")
    assert nothing.exit_code == 1 and "say which runs" in nothing.stderr
