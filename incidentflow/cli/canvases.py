"""Canvases through the API: apply a file, start a run, list and show, pause and resume,
a node's rate limit, a trigger's delivery log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from incidentflow.cli.app import (
    JSON_OPTION,
    api_client,
    app,
    canvas_app,
    canvases_app,
    coloured_state,
    emit,
    fail,
    node_app,
    out,
    table,
)


@app.command()
def apply(
    file: Path = typer.Argument(..., help="Canvas file (.yaml, .yml or .json)."),
    name: str | None = typer.Option(None, help="Canvas name when the file has none."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or update a canvas from a file."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    canvas_name = name or _name_in(text) or file.stem
    content_type = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    with api_client() as client:
        saved = client.canvases.apply(canvas_name, text, content_type)

    def render() -> None:
        verb = "saved as version" if saved["created"] else "unchanged, still version"
        out.print(f"[green]{saved['name']}[/] {verb} {saved['version']}", highlight=False)
        for warning in saved.get("warnings", []):
            where = ".".join(p for p in (warning.get("node"), warning.get("field")) if p)
            out.print(f"[yellow]warning:[/] {where}: {warning.get('message')}", highlight=False)

    emit(as_json, saved, render)


def _name_in(text: str) -> str | None:
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # the server explains the syntax error
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) and name else None


@app.command("run")
def run_node(
    canvas: str, node: str,
    payload: str = typer.Option("{}", help="JSON object the start node emits."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start a run from a start node."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        fail(f"--payload is not valid JSON: {exc}")
    with api_client() as client:
        run_id = client.canvases.run(canvas, node, data)
    emit(as_json, {"runId": run_id}, lambda: out.print(f"run {run_id} queued", highlight=False))



@canvases_app.command("list")
def canvases_list(as_json: bool = JSON_OPTION) -> None:
    """Every canvas with its version and last run."""
    with api_client() as client:
        canvases = client.canvases.all()

    def render() -> None:
        grid = table("canvas", "version", "triggers", "last run", "updated", "tripped")
        for c in canvases:
            last = (f"{c['lastRunId']} {coloured_state(c['lastRunState'])}"
                    if c.get("lastRunId") else "")
            name = f"{c['name']} [yellow](paused)[/]" if c.get("paused") else c["name"]
            grid.add_row(name, str(c["version"]), ", ".join(c.get("triggers", [])),
                          last, c.get("updatedAt") or "", _tripped(c.get("trippedNodes")))
        out.print(grid)

    emit(as_json, canvases, render)


def _tripped(nodes: list[dict[str, Any]] | None) -> str:
    return ", ".join(f"[red]{n['node']}[/] ({n['held']} held)" for n in nodes or [])


@canvases_app.command("show")
def canvases_show(name: str, as_json: bool = JSON_OPTION) -> None:
    """A canvas's nodes with live webhook metadata."""
    with api_client() as client:
        view = client.canvases.get(name)

    def render() -> None:
        out.print(f"{view['name']} v{view['version']}", highlight=False)
        grid = table("node", "type", "webhook URL", "operational")
        for n in view["nodes"]:
            live = n.get("live") or {}
            ok = "" if not live else ("yes" if live["operational"] else f"no: {live['reason']}")
            grid.add_row(n["name"], n["type"], live.get("webhookUrl", ""), ok)
        out.print(grid)
        if view.get("trippedNodes"):
            out.print(f"tripped: {_tripped(view['trippedNodes'])}; resume with "
                      f"incidentflow node resume {view['name']} NODE --release|--discard",
                      highlight=False)

    emit(as_json, view, render)


@node_app.command("resume")
def node_resume(
    canvas: str, node: str,
    release: bool = typer.Option(False, "--release", help="Run what the node holds "
                                 "(released executions do not count against the limit)."),
    discard: bool = typer.Option(False, "--discard", help="Drop what the node holds "
                                 "(they end as discarded; their runs finish)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Resume a node whose rate limit tripped: --release or --discard what it holds."""
    if release == discard:
        fail("say what to do with the held executions: --release or --discard (one of them)")
    with api_client() as client:
        result = client.canvases.resume_node(canvas, node, "release" if release else "discard")
    done = (f"{result['released']} released" if release
            else f"{result['discarded']} discarded")
    emit(as_json, result,
          lambda: out.print(f"{canvas}/{node} resumed: {done}", highlight=False))


# -- canvas pause / resume / deliveries (docs/runaway.md) ------------------------------------


@canvas_app.command("pause")
def canvas_pause(name: str, as_json: bool = JSON_OPTION) -> None:
    """Pause a canvas: deliveries are acknowledged and kept, nothing starts."""
    with api_client() as client:
        result = client.canvases.pause(name)
    held = result.get("pendingDeliveries", 0)
    emit(as_json, result, lambda: out.print(
        f"canvas {name} paused since {result['pausedAt']} ({held} deliveries held)",
        highlight=False, soft_wrap=True))


@canvas_app.command("resume")
def canvas_resume(
    name: str,
    run_pending: bool | None = typer.Option(
        None, "--run-pending/--discard-pending",
        help="Run, or discard, what arrived while paused (needed when anything did)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Resume a paused canvas."""
    pending = None if run_pending is None else ("run" if run_pending else "discard")
    with api_client() as client:
        result = client.canvases.resume(name, pending)

    def render() -> None:
        out.print(f"canvas {name} resumed: {len(result['runIds'])} runs started from held "
                  f"deliveries, {result['discarded']} discarded", highlight=False,
                  soft_wrap=True)

    emit(as_json, result, render)


@canvas_app.command("deliveries")
def canvas_deliveries(canvas: str, node: str,
                      limit: int = typer.Option(20, min=1, max=500),
                      as_json: bool = JSON_OPTION) -> None:
    """A webhook trigger's delivery log, newest first."""
    with api_client() as client:
        found = client.canvases.deliveries(canvas, node, limit)

    def render() -> None:
        grid = table("received", "webhook id", "outcome", "code", "reason", "run")
        for d in found:
            grid.add_row(d["receivedAt"], d.get("webhookId") or "", d["outcome"],
                         d.get("code") or "", d.get("reason") or "", d.get("runId") or "")
        out.print(grid)

    emit(as_json, found, render)
