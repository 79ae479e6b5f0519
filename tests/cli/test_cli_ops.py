"""The CLI's operations commands: tokens, runs replay, prune."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from incidentflow.cli import app
from incidentflow.events import Event, utcnow
from incidentflow.registry import default_registry
from incidentflow.settings import Settings
from incidentflow.store.sql import SqlStore

from .conftest import Live

CANVAS = """
name: cli-replay
nodes:
  - {name: Start, type: start}
  - {name: Done, type: noop}
edges:
  - {from: Start, to: Done}
"""


def test_tokens_create_list_use_and_revoke(invoke: Any, live: Live) -> None:
    created = invoke("tokens", "create", "deploy-bot", "--json")
    assert created.exit_code == 0, created.output
    token = json.loads(created.stdout)
    assert token["token"].startswith("ift_")

    plain = invoke("tokens", "create", "human")
    assert plain.exit_code == 0 and "not shown again" in plain.stdout
    assert any(line.startswith("ift_") for line in plain.stdout.splitlines())

    listed = invoke("tokens", "list", "--json")
    names = {t["name"]: t for t in json.loads(listed.stdout)}
    assert {"deploy-bot", "human"} <= set(names)
    assert token["token"] not in listed.stdout
    assert "deploy-bot" in invoke("tokens", "list").stdout

    as_bot = {"INCIDENTFLOW_TOKEN": token["token"]}
    assert invoke("canvases", "list", env=as_bot).exit_code == 0

    revoked = invoke("tokens", "revoke", token["id"])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    refused = invoke("canvases", "list", env=as_bot)
    assert refused.exit_code == 1
    assert "missing or invalid bearer token" in refused.stderr


def test_revoking_an_unknown_token_is_a_clear_error(invoke: Any) -> None:
    result = invoke("tokens", "revoke", "nope")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


def test_runs_replay_prints_the_new_run(invoke: Any, tmp_path: Path) -> None:
    path = tmp_path / "replay.yaml"
    path.write_text(CANVAS)
    assert invoke("apply", str(path)).exit_code == 0
    run_id = json.loads(invoke("run", "cli-replay", "Start", "--json").stdout)["runId"]

    replayed = invoke("runs", "replay", run_id, "--json")
    assert replayed.exit_code == 0, replayed.output
    answer = json.loads(replayed.stdout)
    assert answer["replayOf"] == run_id and answer["runId"] != run_id
    plain = invoke("runs", "replay", run_id).stdout
    assert plain.startswith("run ") and f"(replay of {run_id})" in plain
    assert plain.split()[1] not in (run_id, answer["runId"])  # every replay is a new run
    missing = invoke("runs", "replay", "no-such-run")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_prune_deletes_old_finished_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings.from_env({}, data_dir=data_dir)
    store = SqlStore(settings.database_url, default_registry())
    store.migrate()
    from incidentflow.canvas import Canvas, Edge, Node

    store.save_canvas(Canvas("c", (Node("Start", "start"), Node("Done", "noop")),
                             (Edge("Start", "Done"),)), "", [], utcnow())
    event = Event("start.manual", {})
    long_ago = utcnow() - timedelta(days=10)
    old = store.start_run("c", "Start", event, [], long_ago)  # no executions: finished at once
    recent = store.start_run("c", "Start", event, [], utcnow())
    store.close()
    env = {"INCIDENTFLOW_DATABASE_URL": "", "INCIDENTFLOW_RETENTION_DAYS": "30"}
    runner = CliRunner()

    kept = runner.invoke(app, ["prune", "--data-dir", str(data_dir), "--json"], env=env)
    assert kept.exit_code == 0, kept.output
    assert json.loads(kept.stdout)["runs"] == 0  # 10 days < the 30-day default window

    result = runner.invoke(app, ["prune", "--older-than", "7", "--data-dir", str(data_dir)],
                           env=env)
    assert result.exit_code == 0, result.output
    assert "pruned 1 runs" in result.stdout
    store = SqlStore(settings.database_url, default_registry())
    try:
        assert [r.id for r in store.list_runs("c")] == [recent]
        assert old != recent
    finally:
        store.close()


def test_prune_with_a_bad_retention_setting_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["prune", "--data-dir", str(tmp_path)],
                                env={"INCIDENTFLOW_RETENTION_DAYS": "soon"})
    assert result.exit_code == 1
    assert "INCIDENTFLOW_RETENTION_DAYS" in result.stderr
