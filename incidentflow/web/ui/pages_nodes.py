"""The node panel: configuration form, webhook setup, signing secret, manual runs."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from incidentflow import jsontext
from incidentflow.canvas import Canvas, Node
from incidentflow.canvas_views import endpoint_view
from incidentflow.components.base import Component, WebhookTrigger
from incidentflow.errors import IncidentflowError, NotFound
from incidentflow.events import utcnow
from incidentflow.expression_pool import off_loop
from incidentflow.secrets_service import preview_scope
from incidentflow.web.ui import authoring
from incidentflow.web.ui.authoring import connect_view
from incidentflow.web.ui.context import UiContext, quoted, redirect, ui
from incidentflow.web.ui.node_form import (
    FieldView,
    add_previews,
    config_from_form,
    example_scope,
    field_views,
)
from incidentflow.web.ui.pages_canvases import canvas_context
from incidentflow.web.ui.problems import configuration_field, problems_of
from incidentflow.web.ui.rate_limits import node_panel
from incidentflow.web.ui.schedules import schedule_panel

DELIVERIES_SHOWN = 20
EXAMPLE_PAYLOAD = '{\n  "service": "checkout",\n  "severity": "major"\n}'


async def node_page(request: Request) -> Response:
    return await render_node(request)


async def render_node(
    request: Request,
    *,
    config: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    panel_extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    context = ui(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    view = await canvas_context(context, name, selected=node_name)
    node = _node(view["record"].canvas, node_name)
    component = context.host.registry.component(node.type)
    panel = await _panel(context, view["record"].canvas, node, component, config, errors or {})
    panel.update(node_panel(view, node_name))
    panel.update(panel_extra or {})
    title = f"{node_name} · {name}"
    return context.page(request, "canvas.html", {**view, "title": title, "panel": panel}, status)


async def _panel(
    context: UiContext,
    canvas: Canvas,
    node: Node,
    component: Component,
    config: dict[str, Any] | None,
    errors: dict[str, str],
) -> dict[str, Any]:
    fields, source = await form_fields(context, canvas, node, component, config, errors)
    panel: dict[str, Any] = {
        "node": node,
        "component": component,
        "fields": fields,
        "preview_source": source,
        "payload": EXAMPLE_PAYLOAD,
        "payload_error": "",
        "secret_error": "",
        "node_problems": [],
        **connect_view(canvas, node.name, context.host.registry),
    }
    if isinstance(component, WebhookTrigger):
        panel["webhook"] = await _webhook(context, canvas.name, node.name)
        # Labelled and explained by the trigger itself (its secret hook's one field).
        hook = next(h for h in component.hooks if h.name == component.SECRET_HOOK)
        panel["secret_field"] = hook.fields[0]
    if component.type == "schedule":
        panel["schedule"] = await schedule_panel(context, canvas.name, node)
    if isinstance(component, WebhookTrigger) and component.polls_for_changes(
            node.configuration):  # e.g. On Incident's catchUp
        state = await context.db.catch_up_state(canvas.name, node.name)
        panel["catch_up"] = component.polling_view(node.configuration, state)
    return panel


async def form_fields(
    context: UiContext,
    canvas: Canvas,
    node: Node,
    component: Component,
    config: dict[str, Any] | None,
    errors: dict[str, str],
) -> tuple[list[FieldView], str]:
    """The node's fields with their values, pickers and expression previews; and the
    trigger whose example the previews used. ``canvas`` holds ``node`` (saved or not)."""
    fields = field_views(component, node.configuration if config is None else config)
    for view in fields:
        view.error = errors.get(view.field.name, "")
    await _fill_resource_options(context, node, fields)
    scope, source = example_scope(canvas, node.name, context.host.registry)
    minimal, _ = example_scope(canvas, node.name, context.host.registry, minimal=True)
    # Previews see which secrets exist, never their values.
    scope["secrets"] = minimal["secrets"] = preview_scope(
        await context.host.secrets.names())
    # Off the event loop and under the runs' budget: opening a node whose template is
    # slow must not stall the server.
    await off_loop(add_previews, fields, scope, node.name, context.settings.expression_budget,
                   minimal)
    return fields, source


async def _fill_resource_options(context: UiContext, node: Node, fields: list[FieldView]) -> None:
    for view in fields:
        if not view.field.resource:
            continue
        if not node.integration:
            view.options_error = "Choose an integration for this node first."
            continue
        try:
            resources = await context.host.integrations.list_resources(
                node.integration, view.field.resource)
        except IncidentflowError as exc:
            view.options_error = f"Could not load the list: {exc}"
            continue
        view.options = [(r["id"], r["name"]) for r in resources]


async def _webhook(context: UiContext, canvas: str, node: str) -> dict[str, Any]:
    endpoint = await context.db.endpoint_for_node(canvas, node, utcnow())
    deliveries = await context.db.recent_deliveries(endpoint.id, DELIVERIES_SHOWN)
    return {**endpoint_view(context.host.settings, endpoint), "recent": deliveries,
            "counts": endpoint.counts}


def _node(canvas: Canvas, name: str) -> Node:
    try:
        return canvas.node(name)
    except KeyError:
        raise NotFound(f"Canvas {canvas.name!r} has no node {name!r}.") from None


async def save_node(request: Request) -> Response:
    """Preview the typed values, or save them as a new canvas version."""
    context = ui(request)
    form = await context.form(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    record = await context.db.get_canvas(name)
    node = _node(record.canvas, node_name)
    component = context.host.registry.component(node.type)
    config, errors = config_from_form(component, form, node.configuration)
    if errors or form.get("action") == "preview":
        status = 422 if errors else 200
        return await render_node(request, config=config, errors=errors, status=status)
    source = _source_with_config(record.source, node_name, config)
    try:
        await context.host.canvases.apply_canvas(source)
    except IncidentflowError as exc:
        problems = problems_of(exc)
        mine = {configuration_field(p.field) or "": p.message
                for p in problems if p.node == node_name and configuration_field(p.field)}
        others = [p for p in problems
                  if p.node != node_name or not configuration_field(p.field)]
        return await render_node(
            request, config=config, errors=mine, panel_extra={"node_problems": others}, status=422
        )
    return redirect(
        request, f"/canvases/{quoted(name)}/nodes/{quoted(node_name)}", notice="node-saved"
    )


def _source_with_config(source: str, node_name: str, config: dict[str, Any]) -> str:
    """The canvas document with one node's configuration replaced, read with the canvas
    loader's limits like every other edit (``authoring``)."""
    document = authoring.load(source)
    authoring.set_configuration(document, node_name, config)
    return authoring.dump(document)


async def set_secret(request: Request) -> Response:
    """Store a new signing secret. Clearing it goes through ``confirm_clear_secret``."""
    context = ui(request)
    form = await context.form(request)
    secret = str(form.get("secret") or "").strip()
    if not secret:
        return await render_node(
            request, panel_extra={"secret_error": "Paste the signing secret first."}, status=422
        )
    return await _run_secret_hook(request, secret, notice="secret-set")


async def confirm_clear_secret(request: Request) -> Response:
    """Clearing the signing secret rejects every delivery: ask first (a plain form page,
    as for deletions; the CSP allows no inline script for a confirm() dialog)."""
    context = ui(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    view = await context.host.canvas_views.canvas_view(name)  # NotFound for an unknown canvas
    node = next((n for n in view["nodes"] if n["name"] == node_name), None)
    if node is None or "live" not in node:
        raise NotFound(f"Canvas {name!r} has no webhook trigger {node_name!r}.")
    here = f"/canvases/{quoted(name)}/nodes/{quoted(node_name)}"
    return context.page(request, "confirm.html", {
        "title": f"Clear signing secret · {node_name}",
        "question": f"Clear the signing secret of “{node_name}”?",
        "consequences": [
            "Every delivery from incident.io to this trigger is rejected from now on, "
            "until a new signing secret is set.",
            "The secret cannot be recovered. To change it, cancel and set the new one "
            "instead: the previous one keeps working for 24 hours.",
        ],
        "action": f"{here}/secret/clear",
        "button": "Clear signing secret",
        "cancel": here,
    })


async def clear_secret(request: Request) -> Response:
    await ui(request).form(request)  # checks the CSRF token
    return await _run_secret_hook(request, "", notice="secret-cleared")


async def _run_secret_hook(request: Request, secret: str, notice: str) -> Response:
    context = ui(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    try:
        await context.host.canvases.run_hook(name, node_name, WebhookTrigger.SECRET_HOOK,
                                    {WebhookTrigger.SECRET_PARAM: secret})
    except NotFound:
        raise
    except IncidentflowError as exc:
        message = "; ".join(p.message for p in problems_of(exc))
        return await render_node(request, panel_extra={"secret_error": message}, status=422)
    return redirect(request, f"/canvases/{quoted(name)}/nodes/{quoted(node_name)}", notice=notice)


async def run_node(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    name, node_name = request.path_params["name"], request.path_params["node"]
    raw = str(form.get("payload") or "").strip() or "{}"
    try:
        payload = jsontext.decode(raw)
    except jsontext.JsonRejected as exc:
        error = f"The payload is not valid JSON: {exc}."
        return await render_node(request, panel_extra=_payload_error(form, error), status=422)
    try:
        run_id = await context.host.canvases.run_manual(name, node_name, payload)
    except NotFound:
        raise
    except IncidentflowError as exc:
        return await render_node(request, panel_extra=_payload_error(form, str(exc)), status=422)
    return redirect(request, f"/runs/{quoted(run_id)}")


def _payload_error(form: FormData, error: str) -> dict[str, Any]:
    return {"payload": str(form.get("payload") or ""), "payload_error": error}
