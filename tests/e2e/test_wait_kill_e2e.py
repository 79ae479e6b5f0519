"""A wait survives ``kill -9`` of the process that holds it and fires once after a
restart on the same data (the wait is rows, not memory: docs/time.md)."""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, Sink, cli_command, server_process, wait_until

WAIT_SECONDS = 4
CANVAS = f"""
name: survives
nodes:
  - {{name: Start, type: start}}
  - {{name: Pause, type: wait, configuration: {{seconds: {WAIT_SECONDS}}}}}
  - name: Notify
    type: http
    configuration: {{method: POST, url: "SINK/after", body: {{run: "{{{{ run.id }}}}"}}}}
edges:
  - {{from: Start, to: Pause}}
  - {{from: Pause, to: Notify}}
"""


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), env=server.client_env(), capture_output=True,
                          text=True, timeout=60)


def notify_of(server: ServerProcess, run_id: str) -> dict | None:
    answer = httpx.get(f"{server.url}/api/v1/runs/{run_id}",
                       headers={"Authorization": f"Bearer {server.token}"}, timeout=10)
    answer.raise_for_status()
    return next((e for e in answer.json()["executions"] if e["node"] == "Notify"), None)


@pytest.mark.slow
def test_a_wait_survives_kill_9_and_fires_once(tmp_path: Path, sink: Sink,
                                               database_url: str) -> None:
    data, env = tmp_path / "data", {"INCIDENTFLOW_DATABASE_URL": database_url}
    canvas_file = tmp_path / "survives.yaml"
    canvas_file.write_text(CANVAS.replace("SINK", sink.url))
    with server_process(data, env=env) as first:
        assert cli(first, "apply", str(canvas_file)).returncode == 0
        started = cli(first, "run", "survives", "Start", "--json")
        assert started.returncode == 0, started.stderr
        run_id = json.loads(started.stdout)["runId"]
        queued = wait_until(lambda: (n := notify_of(first, run_id)) and n["state"] == "queued"
                            and n, timeout=10, what="the step after the wait, queued")
        due = datetime.fromisoformat(queued["nextAttemptAt"].replace("Z", "+00:00"))
        first.process.send_signal(signal.SIGKILL)  # no shutdown, no lease handed back
        first.process.wait(timeout=10)
    assert not sink.requests  # it was killed while waiting
    with server_process(data, env=env) as second:
        wait_until(lambda: sink.requests, timeout=WAIT_SECONDS + 15, what="the call after the wait")
        notify = wait_until(lambda: (n := notify_of(second, run_id)) and
                            n["state"] == "succeeded" and n, timeout=10, what="Notify done")
        arrived = datetime.now(UTC)
    assert arrived >= due
    assert [json.loads(r["body"]) for r in sink.requests] == [{"run": run_id}]  # once
    assert notify["attempts"] == 1
