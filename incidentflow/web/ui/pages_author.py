"""Authoring from the graph: the palette, adding a node, what a node runs after,
renaming and deleting a node, and starting a canvas from a name.

Each action edits the saved document (``authoring``) and saves it with
``CanvasService.apply_canvas``, as the YAML editor does: every action is a new canvas version,
with the same validation, secrets checks and warnings."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.components.base import Component
from incidentflow.errors import IncidentflowError, NotFound, Problem
from incidentflow.web.ui import authoring
from incidentflow.web.ui.authoring import Follow
from incidentflow.web.ui.context import UiContext, quoted, redirect, ui
from incidentflow.web.ui.node_form import config_from_form
from incidentflow.web.ui.pages_canvases import canvas_context, taken_canvas
from incidentflow.web.ui.pages_nodes import form_fields, render_node
from incidentflow.web.ui.palette import palette, search_text
from incidentflow.web.ui.problems import configuration_field, problems_of


async def add_page(request: Request) -> Response:
    """The palette (no ``type``), or the form that adds a node of ``type``."""
    context = ui(request)
    type_ = request.query_params.get("type")
    if not type_:
        query = request.query_params.get("q", "")
        panel = {"template": "_palette_panel.html", "query": query,
                 "groups": palette(context.host.registry, query), "search_text": search_text}
        return await _canvas_with(request, panel, "Add a node")
    component = context.host.registry.component(type_)  # NotFound: the 404 page
    return await _add_form(request, component, form=None)


async def add_node(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    name = request.path_params["name"]
    component = context.host.registry.component(str(form.get("type") or ""))
    config, errors = config_from_form(component, form, {})
    if errors or form.get("action") == "preview":
        return await _add_form(request, component, form, config=config, errors=errors,
                               status=422 if errors else 200)
    record = await context.db.get_canvas(name)
    document = authoring.load(record.source)
    node_name = _typed_name(form) or component.label
    entry = authoring.node_entry(node_name, component.type, _typed_integration(form), config)
    authoring.add_node(document, entry, _follows(form))
    try:
        await context.host.canvases.apply_canvas(authoring.dump(document))
    except IncidentflowError as exc:
        mine, others = _split_problems(problems_of(exc), node_name)
        return await _add_form(request, component, form, config=config, errors=mine,
                               problems=others, status=422)
    return redirect(request, f"/canvases/{quoted(name)}/nodes/{quoted(node_name)}",
                    notice="node-added")


async def connect_node(request: Request) -> Response:
    """Replace what the node runs after (its incoming edges) with the boxes ticked."""
    context = ui(request)
    form = await context.form(request)
    follows = _follows(form)
    return await _edit(request, lambda doc, node: authoring.set_follows(doc, node, follows),
                       notice="node-connected", error_key="connect_error")


async def rename_node(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    new = str(form.get("new_name") or "").strip()
    if not new:
        return await render_node(request, panel_extra={"rename_error": "Type the new name."},
                                 status=422)
    return await _edit(request, lambda doc, node: authoring.rename_node(doc, node, new),
                       notice="node-renamed", error_key="rename_error", renamed=new)


async def confirm_delete_node(request: Request) -> Response:
    context = ui(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    record = await context.db.get_canvas(name)
    if not any(n.name == node_name for n in record.canvas.nodes):
        raise NotFound(f"Canvas {name!r} has no node {node_name!r}.")
    here = f"/canvases/{quoted(name)}/nodes/{quoted(node_name)}"
    edges = [e for e in record.canvas.edges if node_name in (e.source, e.target)]
    consequences = [f"It and its {len(edges)} edge{'s' if len(edges) != 1 else ''} are "
                    "removed in a new canvas version; earlier versions and runs are kept."]
    component = context.host.registry.components.get(record.canvas.node(node_name).type)
    if component is not None and component.role == "trigger" and component.type != "start":
        consequences.append("Its webhook URL stops working: remove it in the sender too.")
    return context.page(request, "confirm.html", {
        "title": f"Delete {node_name}",
        "question": f"Delete the node “{node_name}” from {name}?",
        "consequences": consequences,
        "action": f"{here}/delete",
        "button": "Delete node",
        "cancel": here,
    })


async def delete_node(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    record = await context.db.get_canvas(name)
    if len(record.canvas.nodes) == 1:
        message = "A canvas needs at least one node: delete the canvas instead."
        return await render_node(request, panel_extra={"delete_error": message}, status=422)
    document = authoring.load(record.source)
    authoring.delete_node(document, node_name)
    try:
        await context.host.canvases.apply_canvas(authoring.dump(document))
    except IncidentflowError as exc:
        message = "; ".join(_plain(p) for p in problems_of(exc))
        return await render_node(request, panel_extra={"delete_error": message}, status=422)
    return redirect(request, f"/canvases/{quoted(name)}", notice="node-deleted")


async def start_canvas(request: Request) -> Response:
    """A new canvas from a name and the trigger that starts it; then the palette."""
    from incidentflow.web.ui.pages_canvases import render_new_canvas

    context = ui(request)
    form = await context.form(request)
    name = str(form.get("name") or "").strip()
    type_ = str(form.get("type") or "")
    values = {"name": name, "type": type_}
    component = context.host.registry.components.get(type_)
    if component is None:
        return await render_new_canvas(request, start=values,
                                       start_errors={"type": "Choose what starts it."})
    if taken := await taken_canvas(context, name):
        return await render_new_canvas(request, start=values, start_errors={"name": taken})
    integration = await _default_integration(context, component)
    node = authoring.node_entry(component.label, component.type, integration, {})
    try:
        await context.host.canvases.apply_canvas(authoring.dump(authoring.new_document(name, node)))
    except IncidentflowError as exc:
        errors = {"name" if p.node is None and p.field == "name" else "type": _plain(p)
                  for p in problems_of(exc)}
        return await render_new_canvas(request, start=values, start_errors=errors)
    return redirect(request, f"/canvases/{quoted(name)}/add", notice="canvas-started")


# -- helpers ----------------------------------------------------------------------------


async def _edit(request: Request, change: Any, *, notice: str, error_key: str,
                renamed: str | None = None) -> Response:
    context = ui(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    record = await context.db.get_canvas(name)
    if not any(n.name == node_name for n in record.canvas.nodes):
        raise NotFound(f"Canvas {name!r} has no node {node_name!r}.")
    document = authoring.load(record.source)
    change(document, node_name)
    try:
        await context.host.canvases.apply_canvas(authoring.dump(document))
    except IncidentflowError as exc:
        message = "; ".join(_plain(p) for p in problems_of(exc))
        return await render_node(request, panel_extra={error_key: message}, status=422)
    target = renamed or node_name
    return redirect(request, f"/canvases/{quoted(name)}/nodes/{quoted(target)}", notice=notice)


async def _add_form(
    request: Request,
    component: Component,
    form: FormData | None,
    *,
    config: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Response:
    context = ui(request)
    record = await context.db.get_canvas(request.path_params["name"])
    canvas = record.canvas
    taken = [n.name for n in canvas.nodes]
    node_name = (_typed_name(form) if form else "") or authoring.free_name(component.label, taken)
    integrations = await _integrations_of(context, component)
    integration = _typed_integration(form) if form else next(iter(integrations), None)
    follows = _follows(form) if form is not None else _default_follows(canvas, context)
    draft = _with_draft(canvas, Node(node_name, component.type, config or {}, integration),
                        follows)
    fields, source = await form_fields(context, draft, draft.node(node_name), component,
                                       config or {}, errors or {})
    panel = {
        "template": "_add_node_panel.html",
        "component": component,
        "node_name": node_name,
        "name_error": (errors or {}).get("", ""),
        "integrations": integrations,
        "integration": integration,
        "follow_options": authoring.follow_options(canvas, None, context.host.registry)
        if component.role != "trigger" else [],
        "follows": {f.token for f in follows},
        "fields": fields,
        "preview_source": source,
        "problems": problems or [],
    }
    return await _canvas_with(request, panel, f"Add {component.label}", status)


async def _canvas_with(request: Request, panel: dict[str, Any], title: str,
                       status: int = 200) -> Response:
    context = ui(request)
    name = request.path_params["name"]
    view = await canvas_context(context, name, selected=None)
    return await context.in_thread(context.page, request, "canvas.html",
                              {**view, "title": f"{title} · {name}", "panel": panel}, status)


def _with_draft(canvas: Canvas, node: Node, follows: list[Follow]) -> Canvas:
    """The canvas with the node being added, for its previews (never saved as is)."""
    edges = tuple(Edge(f.source, node.name, f.channel) for f in follows
                  if any(n.name == f.source for n in canvas.nodes))
    others = tuple(n for n in canvas.nodes if n.name != node.name)
    return Canvas(canvas.name, (*others, node), canvas.edges + edges, canvas.description)


def _default_follows(canvas: Canvas, context: UiContext) -> list[Follow]:
    """A new node runs after the last node added, on its first channel: most canvases
    are a chain, and one click fewer is one click fewer."""
    if not canvas.nodes:
        return []
    last = canvas.nodes[-1]
    component = context.host.registry.components.get(last.type)
    return [Follow(last.name, component.channels[0] if component else "default")]


async def _integrations_of(context: UiContext, component: Component) -> list[str]:
    if component.integration is None:
        return []
    items = await context.host.integrations.list_integrations()
    return [item["name"] for item in items if item["type"] == component.integration]


async def _default_integration(context: UiContext, component: Component) -> str | None:
    if component.integration is None or component.integration_optional:
        return None
    return next(iter(await _integrations_of(context, component)), None)


def _split_problems(problems: list[Problem], node: str) -> tuple[dict[str, str], list[Problem]]:
    """Problems of the node's configuration fields (shown at the field, keyed by field
    name; the node's name under ""), and the rest (shown above the form)."""
    mine: dict[str, str] = {}
    others = []
    for problem in problems:
        field = configuration_field(problem.field)
        if problem.node == node and field:
            mine[field] = problem.message
        elif problem.node == node and problem.field == "name":
            mine[""] = problem.message
        else:
            others.append(problem)
    return mine, others


def _plain(problem: Problem) -> str:
    where = " · ".join(part for part in (problem.node, problem.field) if part)
    return f"{where}: {problem.message}" if where else problem.message


def _typed_name(form: FormData | None) -> str:
    return str(form.get("node_name") or "").strip() if form is not None else ""


def _typed_integration(form: FormData | None) -> str | None:
    return (str(form.get("integration") or "").strip() or None) if form is not None else None


def _follows(form: FormData) -> list[Follow]:
    return [Follow.from_token(str(token)) for token in form.getlist("follows")]
