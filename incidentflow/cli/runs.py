"""Runs through the API: list (filtered, paged), show (with attempts), replay one or
many, retry a failed execution."""

from __future__ import annotations

from typing import Any

import typer

from incidentflow.cli.app import (
    JSON_OPTION,
    api_client,
    coloured_state,
    emit,
    fail,
    out,
    runs_app,
    table,
)


@runs_app.command("list")
def runs_list(canvas: str, limit: int = typer.Option(20, min=1, max=500),
              state: str = typer.Option("", help="running, succeeded or failed"),
              node: str = typer.Option("", help="Only runs with an execution of this node."),
              since: str = typer.Option("", help="Started since: a time or 30m, 1h, 2d."),
              until: str = typer.Option("", help="Started before: a time or 30m, 1h, 2d."),
              before: str = typer.Option("", help="Cursor: the last run id of a page."),
              as_json: bool = JSON_OPTION) -> None:
    """Runs of a canvas, newest first (filtered, paged)."""
    with api_client() as client:
        page = client.runs.page(canvas, limit, state=state, node=node, since=since,
                                until=until, before=before)

    def render() -> None:
        grid = table("run", "state", "incident", "trigger", "started", "finished")
        for r in page["runs"]:
            incident = r.get("incident") or {}
            about = " ".join(x for x in (incident.get("reference"), incident.get("name")) if x)
            grid.add_row(r["id"], coloured_state(r["state"]), about, r["triggerNode"],
                         r.get("createdAt") or "", r.get("finishedAt") or "")
        out.print(grid)
        more = f"; next page: --before {page['nextBefore']}" if page.get("nextBefore") else ""
        out.print(f"{len(page['runs'])} of {page['total']} runs{more}", highlight=False,
                  soft_wrap=True)

    emit(as_json, page["runs"], render)  # --json: the runs, as before (a list)


@runs_app.command("show")
def runs_show(run_id: str, as_json: bool = JSON_OPTION) -> None:
    """A run with each execution and its attempts."""
    with api_client() as client:
        run = client.runs.get(run_id)

    def render() -> None:
        out.print(f"run {run['id']}  canvas {run['canvas']} v{run['canvasVersion']}  "
                  f"{coloured_state(run['state'])}", highlight=False)
        grid = table("execution", "node", "state", "attempts", "emitted", "error")
        for e in run["executions"]:
            channels = ", ".join(str(x.get("channel")) for x in e.get("emitted") or [])
            grid.add_row(e["id"], e["node"], coloured_state(e["state"]), str(e["attempts"]),
                         channels, e.get("error") or "")
            for a in e.get("attemptHistory") or []:
                if a.get("error"):
                    grid.add_row("", "", f"  attempt {a['attempt']}", a["outcome"], "",
                                 a["error"])
        out.print(grid)
        for stop in run.get("stoppedAt") or []:
            out.print(f"stopped at {stop['node']}: {stop['reason']}", highlight=False)

    emit(as_json, run, render)


@runs_app.command("replay")
def runs_replay(
    run_id: str = typer.Argument("", help="The run to replay; omit to replay many."),
    canvas: str = typer.Option("", help="Replay many: only this canvas (default: all)."),
    failed: bool = typer.Option(False, "--failed", help="Replay many: the failed runs."),
    state: str = typer.Option("", help="Replay many: runs in this state."),
    since: str = typer.Option("", help="Replay many: started since (a time or 1h, 2d)."),
    until: str = typer.Option("", help="Replay many: started before."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replay a run (its trigger event as a new run on the canvas's current version),
    or many: e.g. `runs replay --failed --since 1h` after an outage."""
    if run_id:
        with api_client() as client:
            new_id = client.runs.replay(run_id)
        emit(as_json, {"runId": new_id, "replayOf": run_id},
             lambda: out.print(f"run {new_id} queued (replay of {run_id})", highlight=False,
                               soft_wrap=True))
        return
    choice = {"state": "failed" if failed else state, "since": since, "until": until}
    choice = {k: v for k, v in choice.items() if v}
    if not choice.get("state") and not choice.get("since"):
        fail("say which runs: a RUN_ID, or --failed / --state and --since")
    with api_client() as client:
        names = [canvas] if canvas else [c["name"] for c in client.canvases.all()]
        counts = {n: client.runs.replay_many({"canvas": n, **choice, "dryRun": True})
                  for n in names}
        total = sum(c["wouldReplay"] for c in counts.values())
        if total == 0:
            emit(as_json, {"count": 0, "batches": {}},
                 lambda: out.print("no run matches: nothing to replay"))
            return
        if not yes and not typer.confirm(f"Replay {total} runs of {len(names)} canvas(es)?"):
            fail("nothing replayed")
        done = {n: client.runs.replay_many({"canvas": n, **choice})
                for n, c in counts.items() if c["wouldReplay"]}
    emit(as_json, {"count": sum(d["count"] for d in done.values()), "batches": done},
         lambda: _print_bulk(done))


def _print_bulk(done: dict[str, dict[str, Any]]) -> None:
    for name, bulk in done.items():
        more = bulk["matched"] - bulk["count"] - len(bulk["skipped"])
        note = f" ({more} more match: run it again)" if more > 0 else ""
        out.print(f"{name}: {bulk['count']} runs queued, batch {bulk['batch']}{note}",
                  highlight=False, soft_wrap=True)
        for original, why in bulk["skipped"].items():
            out.print(f"  skipped {original}: {why}", highlight=False, soft_wrap=True)


@runs_app.command("retry")
def runs_retry(run_id: str, execution_id: str, as_json: bool = JSON_OPTION) -> None:
    """Queue a failed execution of a run again (same idempotency key)."""
    with api_client() as client:
        run = client.runs.retry(run_id, execution_id)
    emit(as_json, run, lambda: out.print(
        f"execution {execution_id} queued again; run {run_id} is {run['state']}",
        highlight=False, soft_wrap=True))
