"""Integrations: add or update a connection (API key never shown back), its status,
the resources it can see and the permissions it needs. Moving an integration's base URL
asks for its key again (the host refuses otherwise; see docs/incidentio.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.crypto import MASK
from incidentflow.errors import IncidentflowError
from incidentflow.web.ui.context import UiContext, quoted, redirect, ui
from incidentflow.web.ui.problems import problems_of

# The setup steps the user asked for (seed/incident-integration.txt), shown beside the form.
API_KEY_STEPS = {
    "incident": [
        "In incident.io Settings → API keys, click Create API key and give it a name.",
        "Under Add permissions, select exactly these (use “Find a permission” if needed):",
        "Create the key and paste the API key in the form here.",
    ]
}
PERMISSIONS = {
    "incident": [
        ("View data, like public incidents and organisation settings", "needed to read severities"),
        ("Create incidents", "needed for the Create Incident action"),
        (
            "View all incident data, including private incidents",
            "only if you use private incidents",
        ),
    ]
}


async def integration_list(request: Request) -> Response:
    return await _render(request)


async def _render(
    request: Request,
    *,
    form_values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> Response:
    """``failed`` names the existing integration whose update was refused: its own
    form shows the errors and what was typed, not the "add" form."""
    context = ui(request)
    integrations = await context.host.integrations.list_integrations()
    for item in integrations:
        item["resources"] = await _resources(context, item)
    return context.page(
        request,
        "integrations.html",
        {
            "title": "Integrations",
            "integrations": integrations,
            "types": list(context.host.registry.integrations.values()),
            "steps": API_KEY_STEPS,
            "permissions": PERMISSIONS,
            "values": form_values or {"name": _free_name(integrations), "type": "incident"},
            "errors": errors or {},
            "failed": failed,
        },
        status,
    )


async def _resources(context: UiContext, item: dict[str, Any]) -> dict[str, Any]:
    """What the integration can see, per resource type; an error message instead of a list
    when the service refuses."""
    if item.get("status") != "ready":
        return {}
    integration = context.host.registry.integrations.get(item["type"])
    seen: dict[str, Any] = {}
    for resource_type in getattr(integration, "resource_types", ()):
        try:
            seen[resource_type] = await context.host.integrations.list_resources(
                item["name"], resource_type)
        except IncidentflowError as exc:
            seen[resource_type] = str(exc)
    return seen


async def save_integration(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    name = str(form.get("name") or "").strip()
    type_ = str(form.get("type") or "").strip()
    integration = context.host.registry.integrations.get(type_)
    values = {"name": name, "type": type_}
    if not name or integration is None:
        errors = (
            {"name": "Give the integration a name."}
            if not name
            else {"type": "Choose an integration type."}
        )
        return await _render(request, form_values=values, errors=errors, status=422)
    configuration: dict[str, Any] = {}
    for spec in integration.fields:
        raw = str(form.get(f"field-{spec.name}") or "").strip()
        if raw and raw != MASK:
            configuration[spec.name] = raw
        if spec.kind != "secret":
            values[f"field-{spec.name}"] = raw
    replacing = str(form.get("replace") or "") == name  # the explicit "Replace key" form
    exists = await _exists(context, name)
    if exists and not replacing:
        taken = (f"An integration named “{name}” already exists: to change its key, use "
                 f"“Replace key” on it; to add another, choose another name.")
        return await _render(request, form_values=values, errors={"name": taken}, status=409)
    anyway = form.get("save_anyway") == "on"  # e.g. while the service is unreachable
    try:
        await context.host.integrations.put_integration(name, type_, configuration,
                                           refuse_if_not_ready=not anyway)
    except IncidentflowError as exc:
        errors = {p.field or "": p.message for p in problems_of(exc)}
        return await _render(request, form_values=values, errors=errors,
                             failed=name if exists else None, status=422)
    notice = "integration-saved" if not anyway else "integration-saved-unchecked"
    return redirect(request, "/integrations", notice=notice)


def _free_name(integrations: list[dict[str, Any]]) -> str:
    """The add form's suggested name: one no integration has (so it cannot replace one)."""
    taken = {item["name"] for item in integrations}
    name, number = "incident", 2
    while name in taken:
        name, number = f"incident-{number}", number + 1
    return name


async def _exists(context: UiContext, name: str) -> bool:
    return any(item["name"] == name for item in await context.host.integrations.list_integrations())


async def confirm_delete(request: Request) -> Response:
    context = ui(request)
    item = await context.host.integrations.get_integration(request.path_params["name"])
    users = await _canvases_using(context, item["name"])
    consequences = ["Its API key is deleted from incidentflow (it stays valid in the service: "
                    "revoke it there if it is no longer needed)."]
    if users:
        consequences.append(
            "These canvases use it; their nodes will fail until an integration with this "
            "name exists again: " + ", ".join(users) + "."
        )
    consequences.append("To change only the key, cancel and use “Replace the API key”.")
    return context.page(request, "confirm.html", {
        "title": f"Delete {item['name']}",
        "question": f"Delete the integration “{item['name']}”?",
        "consequences": consequences,
        "action": f"/integrations/{quoted(item['name'])}/delete",
        "button": "Delete integration",
        "cancel": "/integrations",
    })


async def delete_integration(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    await context.host.integrations.delete_integration(request.path_params["name"])
    return redirect(request, "/integrations", notice="integration-deleted")


async def _canvases_using(context: UiContext, integration: str) -> list[str]:
    found = []
    for summary in await context.host.canvas_views.list_canvases():
        record = await context.db.get_canvas(summary["name"])
        if any(node.integration == integration for node in record.canvas.nodes):
            found.append(summary["name"])
    return found
