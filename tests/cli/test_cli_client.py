"""The CLI's client commands against a live server (typer's CliRunner, real HTTP)."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from helpers import wait_until

from .conftest import ADMIN_TOKEN, EMULATOR_KEY, Live

CANVAS = """
name: {name}
nodes:
  - {{name: Start, type: start}}
  - {{name: Check, type: filter, configuration: {{expression: "root.data.ok == true"}}}}
edges:
  - {{from: Start, to: Check}}
"""

HOOKS = """
name: cli-hooks
nodes:
  - {name: On Incident, type: incident.onIncident}
"""


def write(tmp_path: Path, name: str, text: str, suffix: str = ".yaml") -> Path:
    path = tmp_path / f"{name}{suffix}"
    path.write_text(text)
    return path


def test_apply_run_and_show(invoke: Any, live: Live, tmp_path: Path) -> None:
    applied = invoke("apply", str(write(tmp_path, "cli-flow", CANVAS.format(name="cli-flow"))))
    assert applied.exit_code == 0, applied.output
    assert "cli-flow saved as version 1" in applied.stdout
    unchanged = invoke("apply", str(write(tmp_path, "cli-flow", CANVAS.format(name="cli-flow"))))
    assert "unchanged, still version 1" in unchanged.stdout

    started = invoke("run", "cli-flow", "Start", "--payload", '{"ok": true}', "--json")
    assert started.exit_code == 0, started.output
    run_id = json.loads(started.stdout)["runId"]

    def finished() -> dict | None:
        shown = invoke("runs", "show", run_id, "--json")
        run = json.loads(shown.stdout)
        return run if run["state"] != "running" else None

    run = wait_until(finished, what="the run to finish")
    assert run["state"] == "succeeded"
    assert run["executions"][0]["node"] == "Check"
    table = invoke("runs", "show", run_id)
    assert table.exit_code == 0 and "Check" in table.stdout and "succeeded" in table.stdout

    listed = invoke("runs", "list", "cli-flow", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [run_id]
    canvases = json.loads(invoke("canvases", "list", "--json").stdout)
    assert "cli-flow" in [c["name"] for c in canvases]
    assert "cli-flow" in invoke("canvases", "list").stdout


def test_a_json_file_without_a_name_takes_the_file_name(invoke: Any, tmp_path: Path) -> None:
    document = {"nodes": [{"name": "Start", "type": "start"}]}
    path = write(tmp_path, "from-stem", json.dumps(document), ".json")
    result = invoke("apply", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "from-stem"


def test_validation_problems_are_printed_with_exit_1(invoke: Any, tmp_path: Path) -> None:
    broken = CANVAS.format(name="cli-broken").replace("root.data.ok == true", "root.data.ok ==")
    result = invoke("apply", str(write(tmp_path, "cli-broken", broken)))
    assert result.exit_code == 1
    assert "error:" in result.stderr
    assert "Check.configuration.expression" in result.stderr
    assert "Traceback" not in result.output


def test_clear_errors_instead_of_tracebacks(invoke: Any, tmp_path: Path) -> None:
    missing = invoke("runs", "show", "no-such-run")
    assert missing.exit_code == 1 and "not" in missing.stderr.lower()
    bad_payload = invoke("run", "x", "Start", "--payload", "{nope")
    assert bad_payload.exit_code == 1 and "--payload" in bad_payload.stderr
    no_file = invoke("apply", str(tmp_path / "absent.yaml"))
    assert no_file.exit_code == 1 and "cannot read" in no_file.stderr
    wrong_token = invoke("canvases", "list", env={"INCIDENTFLOW_TOKEN": "wrong"})
    assert wrong_token.exit_code == 1 and "bearer token" in wrong_token.stderr
    unreachable = invoke("canvases", "list", env={"INCIDENTFLOW_URL": "http://127.0.0.1:9"})
    assert unreachable.exit_code == 1 and "cannot reach" in unreachable.stderr


def test_secret_set_from_stdin_and_clear(invoke: Any, live: Live, tmp_path: Path) -> None:
    assert invoke("apply", str(write(tmp_path, "cli-hooks", HOOKS))).exit_code == 0
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    stored = invoke("secret", "set", "cli-hooks", "On Incident", input=secret + "\n")
    assert stored.exit_code == 0, stored.output
    assert secret not in stored.output
    assert operational(live) is True

    cleared = invoke("secret", "set", "cli-hooks", "On Incident", "--clear")
    assert cleared.exit_code == 0 and "cleared" in cleared.stdout
    assert operational(live) is False

    bad = invoke("secret", "set", "cli-hooks", "On Incident", input="hunter2\n")
    assert bad.exit_code == 1 and "webhookSigningSecret" in bad.stderr
    assert "hunter2" not in bad.output


def operational(live: Live) -> bool:
    view = httpx.get(f"{live.url}/api/v1/canvases/cli-hooks",
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    return bool(view["nodes"][0]["live"]["operational"])


def test_integrations_set_and_list_never_show_the_key(invoke: Any, live: Live) -> None:
    result = invoke("integrations", "set", "incident", "--type", "incident", "--api-key-stdin",
                    "--base-url", live.emulator_url, input=EMULATOR_KEY + "\n")
    assert result.exit_code == 0, result.output
    assert "ready" in result.stdout
    listed = invoke("integrations", "list")
    assert "incident" in listed.stdout and "ready" in listed.stdout
    as_json = invoke("integrations", "list", "--json")
    assert json.loads(as_json.stdout)[0]["configuration"]["apiKey"] == {"configured": True}
    for output in (result.output, listed.output, as_json.output):
        assert EMULATOR_KEY not in output

    bad = invoke("integrations", "set", "x", "--type", "incident", "--set", "nokey")
    assert bad.exit_code == 1 and "key=value" in bad.stderr


def test_help_does_not_import_the_server() -> None:
    probe = ("import sys, incidentflow.cli; "
             "print(sorted(m for m in ('sqlalchemy', 'uvicorn', 'httpx', 'starlette') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
