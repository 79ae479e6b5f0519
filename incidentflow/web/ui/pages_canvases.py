"""Canvas list, canvas page (graph), the YAML editor and saving."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.canvas_io import read_document
from incidentflow.errors import CanvasError, IncidentflowError, Problem
from incidentflow.web.ui import authoring
from incidentflow.web.ui import graph as graphs
from incidentflow.web.ui.activity_chart import activity_chart
from incidentflow.web.ui.context import UiContext, quoted, redirect, ui
from incidentflow.web.ui.editor_live import live_draft, snippet
from incidentflow.web.ui.palette import palette
from incidentflow.web.ui.problems import by_node, locate, names_with_problems, problems_of
from incidentflow.web.ui.rate_limits import canvas_rate_limits, editor_feedback

NEW_CANVAS = """\
name: {name}
description: What this canvas is for.
nodes:
  - name: Start
    type: start
  - name: Log it
    type: noop
edges:
  - {from: Start, to: Log it}
"""


async def home(request: Request) -> Response:
    return redirect(request, "/canvases")


async def canvas_list(request: Request) -> Response:
    context = ui(request)
    canvases = await context.host.canvas_views.list_canvases()
    return context.page(request, "canvases.html", {"title": "Canvases", "canvases": canvases})


async def canvas_page(request: Request) -> Response:
    context = ui(request)
    name = request.path_params["name"]
    view = await canvas_context(context, name, selected=None)
    # Rendered in a worker thread too: a large drawing is thousands of SVG paths.
    return await context.in_thread(
        context.page, request, "canvas.html", {**view, "title": name, "panel": None}
    )


async def canvas_context(context: UiContext, name: str, selected: str | None) -> dict[str, Any]:
    """The canvas record, its live node metadata and its drawing."""
    record = await context.db.get_canvas(name)
    view = await context.host.canvas_views.canvas_view(name)
    node_live = {node["name"]: node.get("live") or {} for node in view.get("nodes", [])}
    not_operational = {
        n: "not operational: " + str(meta.get("reason") or "signing secret not set")
        for n, meta in node_live.items()
        if meta.get("operational") is False
    }
    limits = canvas_rate_limits(context, record.canvas, view)
    # In a worker thread: a canvas of thousands of edges takes a noticeable while.
    graph = await context.in_thread(
        graphs.build_graph,
        graphs.draft_of_canvas(record.canvas),
        context.host.registry,
        selected=selected,
        warnings={**not_operational, **limits["tripped_warnings"]},
    )
    runs = await context.db.list_runs(name, 10)
    held = 0  # deliveries a paused canvas keeps until a person resumes it
    if record.paused_at is not None:
        held = await context.db.held_deliveries(name)
    return {"record": record, "node_live": node_live, "graph": graph, "runs": runs,
            "held": held, "chart": await activity_chart(context, name), **limits}


async def new_canvas(request: Request) -> Response:
    return await render_new_canvas(request)


async def render_new_canvas(
    request: Request,
    *,
    start: dict[str, str] | None = None,
    start_errors: dict[str, str] | None = None,
) -> Response:
    """The new-canvas page: start from a name and a trigger (then the palette), or
    write the YAML. The template's name is one no canvas has yet."""
    context = ui(request)
    taken = {c["name"] for c in await context.host.canvas_views.list_canvases()}
    free = authoring.free_name("my-canvas", taken).replace(" ", "-")
    source = NEW_CANVAS.replace("{name}", free)
    triggers = palette(context.host.registry, role="trigger")
    extra = {"start": start or {"name": free, "type": ""}, "start_errors": start_errors or {},
             "triggers": triggers}
    return await _editor(request, source=source, canvas_name=None, problems=[],
                         status=422 if start_errors else 200, extra=extra)


async def taken_canvas(context: UiContext, name: str) -> str:
    """Why ``name`` cannot be used for a new canvas ("" when it is free)."""
    if not name:
        return "Give the canvas a name."
    if any(c["name"] == name for c in await context.host.canvas_views.list_canvases()):
        return f"A canvas named “{name}” already exists."
    return ""


async def edit_canvas(request: Request) -> Response:
    context = ui(request)
    record = await context.db.get_canvas(request.path_params["name"])
    return await _editor(request, source=record.source, canvas_name=record.name, problems=[])


async def save_canvas(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    source = str(form.get("source") or "").replace("\r\n", "\n")
    editing = str(form.get("editing") or "") or None
    taken = await _overwrites(context, source, editing)
    if taken is not None:
        return await _editor(request, source, editing, [taken], status=409,
                             extra={"taken": _name_in(source)})
    try:
        saved, _warnings = await context.host.canvases.apply_canvas(source)
    except IncidentflowError as exc:
        return await _editor(request, source, editing, problems_of(exc), status=422)
    notice = "saved" if saved.created else "unchanged"
    return redirect(request, f"/canvases/{quoted(saved.name)}", notice=notice)


async def _overwrites(context: UiContext, source: str, editing: str | None) -> Problem | None:
    """Saving must not silently make a new version of another canvas: a new canvas (or
    one renamed in the editor) whose name is taken is refused, with a link to it."""
    name = _name_in(source)
    if not name or name == editing:
        return None
    if not any(c["name"] == name for c in await context.host.canvas_views.list_canvases()):
        return None
    return Problem(f"a canvas named {name!r} already exists; choose another name, or open "
                   "it and edit it there", field="name")


def _name_in(source: str) -> str | None:
    try:
        document = read_document(source)
    except CanvasError:
        return None
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) else None


async def _editor(
    request: Request,
    source: str,
    canvas_name: str | None,
    problems: list[Any],
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    context = ui(request)
    located = locate(problems, source)
    live = await context.in_thread(
        live_draft, source, context.host.registry, None, names_with_problems(located)
    )
    return context.page(
        request,
        "editor.html",
        {
            "title": f"Edit {canvas_name}" if canvas_name else "New canvas",
            "source": source,
            "canvas_name": canvas_name,
            "problems": located,
            "problems_by_node": by_node(located),
            "live": live,
            "snippet": snippet,
            "node_types": sorted(context.host.registry.components.values(), key=lambda c: c.type),
            "feedback": [] if problems else editor_feedback(context, source),
            **(extra or {}),
        },
        status,
    )


async def confirm_delete(request: Request) -> Response:
    """The confirmation step: a plain form, so it works without JavaScript."""
    context = ui(request)
    record = await context.db.get_canvas(request.path_params["name"])
    triggers = [n.name for n in record.canvas.nodes if n.type != "start" and
                getattr(context.host.registry.components.get(n.type), "role", "") == "trigger"]
    consequences = [
        f"Every version of it (now at v{record.version}) and every run recorded for it "
        "are deleted.",
        "Queued executions of its runs will not run.",
    ]
    if triggers:
        consequences.append(
            "Its webhook URLs stop working: deliveries to them are refused "
            f"({', '.join(triggers)}). Remove them in incident.io too."
        )
    consequences.append("This cannot be undone. Keep a copy of the YAML if you may need it.")
    return context.page(request, "confirm.html", {
        "title": f"Delete {record.name}",
        "question": f"Delete the canvas “{record.name}”?",
        "consequences": consequences,
        "action": f"/canvases/{quoted(record.name)}/delete",
        "button": "Delete canvas",
        "cancel": f"/canvases/{quoted(record.name)}",
    })


async def delete_canvas(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    await context.host.canvases.delete_canvas(request.path_params["name"])
    return redirect(request, "/canvases", notice="canvas-deleted")
