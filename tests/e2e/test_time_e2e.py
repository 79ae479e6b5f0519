"""End to end over real HTTP: serve (subprocess) -> start -> wait 2 s -> http -> sink."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, Sink, cli_command, wait_until

CANVAS = """
name: later
nodes:
  - {name: Start, type: start}
  - {name: Pause, type: wait, configuration: {seconds: 2}}
  - name: Notify
    type: http
    configuration: {method: POST, url: "SINK/later", body: {run: "{{ run.id }}"}}
edges:
  - {from: Start, to: Pause}
  - {from: Pause, to: Notify}
"""


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), env=server.client_env(), capture_output=True,
                          text=True, timeout=60)


def run_of(server: ServerProcess, run_id: str) -> dict:
    response = httpx.get(f"{server.url}/api/v1/runs/{run_id}",
                         headers={"Authorization": f"Bearer {server.token}"})
    response.raise_for_status()
    return response.json()


def waiting(server: ServerProcess, run_id: str) -> dict | None:
    for execution in run_of(server, run_id)["executions"]:
        if execution["node"] == "Notify" and execution["state"] == "queued":
            return execution
    return None


@pytest.mark.slow
def test_a_wait_holds_the_http_call_for_its_time(server: ServerProcess, sink: Sink,
                                                 tmp_path: Path) -> None:
    canvas_file = tmp_path / "later.yaml"
    canvas_file.write_text(CANVAS.replace("SINK", sink.url))
    applied = cli(server, "apply", str(canvas_file))
    assert applied.returncode == 0, applied.stderr
    started = cli(server, "run", "later", "Start", "--json")
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout)["runId"]

    queued = wait_until(lambda: waiting(server, run_id), timeout=5, interval=0.02,
                        what="the http step waiting")
    due = datetime.fromisoformat(queued["nextAttemptAt"].replace("Z", "+00:00"))
    assert not sink.requests  # nothing sent while it waits
    wait_until(lambda: sink.requests, timeout=6, interval=0.01, what="the sink request")
    arrived = datetime.now(UTC)
    assert json.loads(sink.requests[0]["body"]) == {"run": run_id}
    assert (arrived - due).total_seconds() >= 0
    wait_until(lambda: run_of(server, run_id)["state"] == "succeeded", timeout=5,
               what="the run to succeed")
    # "Fires within 1 s of its time": the waiting execution starts by then (the http
    # call itself and this process's polling come on top, so they are not measured).
    [waited] = [e for e in run_of(server, run_id)["executions"] if e["node"] == "Notify"]
    started_at = datetime.fromisoformat(waited["startedAt"].replace("Z", "+00:00"))
    assert 0 <= (started_at - due).total_seconds() <= 1.0
