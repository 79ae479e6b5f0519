"""The create rate limit in the UI: tripped nodes on the canvas page, the node panel's
limit, Release/Discard buttons, and the "this canvas can feed itself" notes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.canvas import Canvas, parse_canvas
from incidentflow.engine.rate_gate import default_limit
from incidentflow.errors import IncidentflowError, InvalidInput
from incidentflow.feedback import FeedbackLoop, feedback_loops
from incidentflow.web.ui.context import UiContext, quoted, redirect, ui

RESUMED_NOTICES = {"release": "node-released", "discard": "node-discarded"}


def canvas_rate_limits(context: UiContext, canvas: Canvas, view: dict[str, Any]
                       ) -> dict[str, Any]:
    """For the canvas page and its node panels (``view``: ``CanvasViews.canvas_view``)."""
    tripped = view.get("trippedNodes", [])
    return {
        "rate_limits": view.get("rateLimits", {}),
        "tripped": tripped,
        "tripped_warnings": {t["node"]: f"rate limit tripped: {t['held']} held"
                             for t in tripped},
        "feedback": loops_of(context, canvas),
    }


def loops_of(context: UiContext, canvas: Canvas) -> list[FeedbackLoop]:
    host = context.host
    return feedback_loops(canvas, host.registry, default_limit(host.settings))


def editor_feedback(context: UiContext, source: str) -> list[FeedbackLoop]:
    """The loops of the canvas being edited, when it is valid (else its problems
    come first; the loops show once it parses)."""
    try:
        canvas = parse_canvas(source, context.host.registry)
    except IncidentflowError:
        return []
    return loops_of(context, canvas)


def node_panel(page: dict[str, Any], node: str) -> dict[str, Any]:
    """The panel's rate limit (creating nodes only) and the loops the node is part of."""
    loops = [loop for loop in page.get("feedback", []) if loop.involves(node)]
    return {"rate_limit": page.get("rate_limits", {}).get(node), "feedback": loops}


async def resume_node(request: Request) -> Response:
    """The node panel's Release / Discard buttons."""
    context = ui(request)
    form = await context.form(request)
    name, node = request.path_params["name"], request.path_params["node"]
    held = str(form.get("held") or "")
    try:
        await context.host.canvases.resume_node(name, node, held)
    except InvalidInput as exc:
        message = "; ".join(str(p) for p in exc.problems)
        return context.page(request, "error.html", {"title": "Not resumed",
                                                    "message": message}, 422)
    return redirect(request, f"/canvases/{quoted(name)}/nodes/{quoted(node)}",
                    notice=RESUMED_NOTICES[held])
