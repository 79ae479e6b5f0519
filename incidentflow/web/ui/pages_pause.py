"""Pause and resume a canvas from its page (plain forms: they work without JavaScript).

A paused canvas keeps what is delivered to it; resuming asks a person whether to run
or discard it (docs/runaway.md).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.errors import Conflict
from incidentflow.web.ui.context import quoted, redirect, ui

RESUME_NOTICES = {"run": "resumed-run", "discard": "resumed-discard", None: "resumed"}


async def pause_canvas(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    name = request.path_params["name"]
    await context.host.canvases.pause_canvas(name)
    return redirect(request, f"/canvases/{quoted(name)}", notice="paused")


async def resume_canvas(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    name = request.path_params["name"]
    choice = form.get("pending")
    pending = choice if choice in ("run", "discard") else None
    try:
        await context.host.canvases.resume_canvas(name, pending)
    except Conflict:  # deliveries arrived since the page was drawn: ask again, with them
        return redirect(request, f"/canvases/{quoted(name)}", notice="resume-choose")
    return redirect(request, f"/canvases/{quoted(name)}", notice=RESUME_NOTICES[pending])

