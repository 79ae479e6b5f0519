"""Secrets for canvases: list (names and dates), set or replace (a password input; the
value is never shown back), delete (after a confirmation step)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.errors import IncidentflowError
from incidentflow.secrets_service import NAME_RULE
from incidentflow.web.ui.context import quoted, redirect, ui
from incidentflow.web.ui.problems import problems_of


async def secret_list(request: Request) -> Response:
    # ?name= prefills the form: the "Replace" link of a row.
    return await _render(request, name=request.query_params.get("name", "")[:100])


async def save_secret(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    name = str(form.get("name") or "").strip()
    value = str(form.get("value") or "")
    try:
        await context.host.secrets.put(name, value)
    except IncidentflowError as exc:
        errors = {p.field or "name": p.message for p in problems_of(exc)}
        return await _render(request, name=name, errors=errors, status=422)
    return redirect(request, "/secrets", notice="secret-saved")


async def confirm_delete(request: Request) -> Response:
    context = ui(request)
    name = request.path_params["name"]
    if name not in await context.host.secrets.names():
        return await _not_found(request, name)
    return context.page(request, "confirm.html", {
        "title": f"Delete {name}",
        "question": f"Delete the secret “{name}”?",
        "consequences": [
            f"Runs whose templates read secrets.{name} fail from now on (within a few "
            "seconds on running workers), until a secret with this name is set again.",
            "The value cannot be recovered. To change it, cancel and set it again instead.",
        ],
        "action": f"/secrets/{quoted(name)}/delete",
        "button": "Delete secret",
        "cancel": "/secrets",
    })


async def delete_secret(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    await context.host.secrets.delete(request.path_params["name"])
    return redirect(request, "/secrets", notice="secret-deleted")


async def _not_found(request: Request, name: str) -> Response:
    return ui(request).page(request, "error.html", {
        "title": "Not found", "message": f"secret {name!r} does not exist"}, 404)


async def _render(
    request: Request, *, name: str = "", errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = ui(request)
    records = await context.host.secrets.records()
    return context.page(request, "secrets.html", {
        "title": "Secrets",
        "secrets": records,
        "name": name,
        "name_pattern": NAME_RULE.strip("^$"),
        "errors": errors or {},
    }, status)
