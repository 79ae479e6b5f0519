"""End to end over real HTTP, on SQLite and PostgreSQL: ``incidentflow serve`` (a
subprocess) runs a canvas to an approval; ``incidentflow approve`` (another subprocess)
decides it; the run goes on by the approved channel to an http step that calls a sink.
A second canvas times out on time, and a later decision is refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, Sink, cli_command, server_process, wait_until

CANVAS = """
name: NAME
nodes:
  - {name: Start, type: start}
  - name: Ask
    type: approval
    configuration: {message: "Roll back {{ root.data.service }}?", timeoutSeconds: TIMEOUT}
  - name: Notify
    type: http
    configuration:
      method: POST
      url: "SINK/approved"
      body: {by: "{{ previous.data.by }}", comment: "{{ previous.data.comment }}"}
  - {name: Late, type: noop}
edges:
  - {from: Start, to: Ask}
  - {from: Ask, to: Notify, channel: approved}
  - {from: Ask, to: Late, channel: timeout}
"""


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    with server_process(tmp_path / "data",
                        env={"INCIDENTFLOW_DATABASE_URL": database_url}) as running:
        yield running


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), env=server.client_env(), capture_output=True,
                          text=True, timeout=60)


def run_of(server: ServerProcess, run_id: str) -> dict:
    response = httpx.get(f"{server.url}/api/v1/runs/{run_id}",
                         headers={"Authorization": f"Bearer {server.token}"})
    response.raise_for_status()
    return dict(response.json())


def start(server: ServerProcess, sink: Sink, tmp_path: Path, name: str, timeout: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(CANVAS.replace("NAME", name).replace("SINK", sink.url)
                    .replace("TIMEOUT", timeout))
    applied = cli(server, "apply", str(path))
    assert applied.returncode == 0, applied.stderr
    started = cli(server, "run", name, "Start", "--payload", '{"service": "api"}', "--json")
    assert started.returncode == 0, started.stderr
    return str(json.loads(started.stdout)["runId"])


@pytest.mark.slow
def test_approve_from_the_cli_and_the_run_goes_on(server: ServerProcess, sink: Sink,
                                                  tmp_path: Path) -> None:
    run_id = start(server, sink, tmp_path, "rollback", "600")
    [waiting] = wait_until(lambda: run_of(server, run_id)["waitingFor"], timeout=10,
                           interval=0.05, what="the approval to wait")
    assert waiting["summary"] == "approval: Roll back api?"
    assert not sink.requests
    approved = cli(server, "approve", run_id, "Ask", "--comment", "do it")
    assert approved.returncode == 0, approved.stderr
    wait_until(lambda: sink.requests, timeout=10, interval=0.02, what="the approved call")
    assert json.loads(sink.requests[0]["body"]) == {"by": "admin", "comment": "do it"}
    wait_until(lambda: run_of(server, run_id)["state"] == "succeeded", timeout=10,
               what="the run to succeed")
    again = cli(server, "approve", run_id, "Ask")
    assert again.returncode != 0 and "already decided" in again.stderr + again.stdout


@pytest.mark.slow
def test_an_approval_times_out_on_time_and_a_late_decision_is_refused(
        server: ServerProcess, sink: Sink, tmp_path: Path) -> None:
    # The wait must still be open when the test first looks: `incidentflow run` (a child
    # process) returns some time after the run began, seconds on a loaded machine.
    run_id = start(server, sink, tmp_path, "unanswered", "6")
    [waiting] = wait_until(lambda: run_of(server, run_id)["waitingFor"], timeout=10,
                           interval=0.05, what="the approval to wait")
    due = datetime.fromisoformat(waiting["until"].replace("Z", "+00:00"))
    run = wait_until(lambda: (r := run_of(server, run_id))["state"] == "succeeded" and r,
                     timeout=15, interval=0.05, what="the timeout")
    ask = next(e for e in run["executions"] if e["node"] == "Ask")
    assert ask["emitted"][0]["channel"] == "timeout"
    # The execution that emitted it started again within about a second of its time.
    started = datetime.fromisoformat(ask["startedAt"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(ask["finishedAt"].replace("Z", "+00:00"))
    assert started <= finished and 0 <= (finished - due).total_seconds() <= 1.0
    late = cli(server, "approve", run_id, "Ask")
    assert late.returncode != 0 and "timed out" in late.stderr + late.stdout
    assert not sink.requests
