"""Runs through the API: list, show, replay."""

from __future__ import annotations

import typer

from incidentflow.cli.app import (
    JSON_OPTION,
    api_client,
    coloured_state,
    emit,
    out,
    runs_app,
    table,
)


@runs_app.command("list")
def runs_list(canvas: str, limit: int = typer.Option(20, min=1, max=500),
              as_json: bool = JSON_OPTION) -> None:
    """Recent runs of a canvas, newest first."""
    with api_client() as client:
        runs = client.runs(canvas, limit)

    def render() -> None:
        grid = table("run", "state", "trigger", "event", "started", "finished")
        for r in runs:
            grid.add_row(r["id"], coloured_state(r["state"]), r["triggerNode"],
                         r.get("eventType", ""), r.get("createdAt") or "",
                         r.get("finishedAt") or "")
        out.print(grid)

    emit(as_json, runs, render)


@runs_app.command("show")
def runs_show(run_id: str, as_json: bool = JSON_OPTION) -> None:
    """A run with each execution."""
    with api_client() as client:
        run = client.get_run(run_id)

    def render() -> None:
        out.print(f"run {run['id']}  canvas {run['canvas']} v{run['canvasVersion']}  "
                  f"{coloured_state(run['state'])}", highlight=False)
        grid = table("node", "state", "attempts", "emitted", "error")
        for e in run["executions"]:
            channels = ", ".join(str(x.get("channel")) for x in e.get("emitted") or [])
            grid.add_row(e["node"], coloured_state(e["state"]), str(e["attempts"]), channels,
                          e.get("error") or "")
        out.print(grid)

    emit(as_json, run, render)


@runs_app.command("replay")
def runs_replay(run_id: str, as_json: bool = JSON_OPTION) -> None:
    """Run a run's trigger event again, as a new run on the canvas's current version."""
    with api_client() as client:
        new_id = client.replay(run_id)
    emit(as_json, {"runId": new_id, "replayOf": run_id},
          lambda: out.print(f"run {new_id} queued (replay of {run_id})", highlight=False,
                            soft_wrap=True))
