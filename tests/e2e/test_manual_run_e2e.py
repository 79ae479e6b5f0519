"""End to end over real HTTP: serve (subprocess) <- CLI -> filter -> http -> local sink."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, Sink, cli_command, wait_until

CANVAS = """
name: notify
nodes:
  - {name: Start, type: start}
  - name: Only majors
    type: filter
    configuration: {expression: "root.data.severity == 'major'"}
  - name: Notify
    type: http
    configuration:
      method: POST
      url: "SINK/hook"
      body: {text: "{{ root.data.title }}", run: "{{ run.id }}"}
edges:
  - {from: Start, to: Only majors}
  - {from: Only majors, to: Notify}
"""


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), env=server.client_env(), capture_output=True,
                          text=True, timeout=60)


def finished(server: ServerProcess, run_id: str) -> dict | None:
    """The run once it left "running" (read over plain HTTP: cheaper than the CLI)."""
    response = httpx.get(f"{server.url}/api/v1/runs/{run_id}",
                         headers={"Authorization": f"Bearer {server.token}"})
    response.raise_for_status()
    run = response.json()
    return run if run["state"] != "running" else None


@pytest.mark.slow
def test_manual_run_reaches_the_sink(server: ServerProcess, sink: Sink, tmp_path: Path) -> None:
    assert "Admin token" in server.log()  # printed once, on the first start
    canvas_file = tmp_path / "notify.yaml"
    canvas_file.write_text(CANVAS.replace("SINK", sink.url))

    applied = cli(server, "apply", str(canvas_file))
    assert applied.returncode == 0, applied.stderr
    assert "saved as version 1" in applied.stdout

    started = cli(server, "run", "notify", "Start", "--json",
                  "--payload", json.dumps({"severity": "major", "title": "DB down"}))
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout)["runId"]

    request = wait_until(lambda: sink.requests and sink.requests[0], what="the sink request")
    assert request["method"] == "POST" and request["path"] == "/hook"
    assert json.loads(request["body"]) == {"text": "DB down", "run": run_id}

    wait_until(lambda: finished(server, run_id), what="the run to finish")
    shown = cli(server, "runs", "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    run = json.loads(shown.stdout)
    assert run["state"] == "succeeded"
    by_node = {e["node"]: e for e in run["executions"]}
    assert set(by_node) == {"Only majors", "Notify"}
    assert by_node["Notify"]["emitted"][0]["channel"] == "success"

    table = cli(server, "runs", "show", run_id)
    assert table.returncode == 0 and "Notify" in table.stdout and "succeeded" in table.stdout
    listed = cli(server, "runs", "list", "notify", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [run_id]


@pytest.mark.slow
def test_a_minor_incident_stops_at_the_filter(server: ServerProcess, sink: Sink,
                                             tmp_path: Path) -> None:
    canvas_file = tmp_path / "filtered.yaml"
    text = CANVAS.replace("SINK", sink.url).replace("name: notify", "name: filtered")
    canvas_file.write_text(text)
    assert cli(server, "apply", str(canvas_file)).returncode == 0
    started = cli(server, "run", "filtered", "Start", "--json",
                  "--payload", '{"severity": "minor"}')
    run_id = json.loads(started.stdout)["runId"]

    run = wait_until(lambda: finished(server, run_id), what="the run to finish")
    assert [e["node"] for e in run["executions"]] == ["Only majors"]
    assert sink.requests == []
