"""API tokens (create: shown once; list; revoke) and the browser sessions beside them.

Browser sessions are rows of the same table (see session.py), so they are listed apart
and can be ended from here too: "sign out that browser"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.api_tokens import SESSION_ROW_PREFIX
from incidentflow.errors import IncidentflowError
from incidentflow.web.ui.context import quoted, redirect, ui
from incidentflow.web.ui.problems import problems_of
from incidentflow.web.ui.session import SESSION_SECONDS


async def token_list(request: Request) -> Response:
    return await _render(request)


async def create_token(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    name = str(form.get("name") or "")
    try:
        created = await context.operations.create_token(name)
    except IncidentflowError as exc:
        message = "; ".join(p.message for p in problems_of(exc)) or str(exc)
        return await _render(request, name=name, error=message, status=422)
    response = await _render(request, created=created)
    response.headers["Cache-Control"] = "no-store"  # the token must not sit in a cache
    return response


async def confirm_revoke(request: Request) -> Response:
    context = ui(request)
    record = await context.db.get_token(request.path_params["token_id"])
    session = record.is_session
    what = f"the browser session “{_session_who(record.name)}”" if session else (
        f"the API token “{record.name}”")
    return context.page(request, "confirm.html", {
        "title": "End session" if session else "Revoke token",
        "question": f"Revoke {what}?",
        "consequences": [
            "That browser is signed out at once, in every process." if session else
            "Scripts and people using it are refused from now on, by every process.",
            "This cannot be undone." + ("" if session else " Create a new token instead."),
        ],
        "action": f"/tokens/{quoted(record.id)}/revoke",
        "button": "End session" if session else "Revoke token",
        "cancel": "/tokens",
    })


async def revoke_token(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    token_id = request.path_params["token_id"]
    record = await context.operations.revoke_token(token_id)
    if record.is_session:
        # the session's own row is revoked in the store; drop this process's cache too
        context.codec.forget(token_id)  # in memory only
    return redirect(request, "/tokens", notice="token-revoked")


async def _render(
    request: Request,
    *,
    created: Any = None,
    name: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    context = ui(request)
    rows = await context.db.list_tokens()  # sessions included
    oldest_live = datetime.now(UTC) - timedelta(seconds=SESSION_SECONDS)
    sessions = [
        {"record": r, "who": _session_who(r.name), "current": r.id == request.state.session.sid}
        for r in rows
        if r.is_session and not r.revoked and _aware(r.created_at) > oldest_live
    ]
    tokens = [r for r in rows if not r.is_session]
    return context.page(request, "tokens.html", {
        "title": "API tokens",
        "tokens": tokens,
        "sessions": sessions,
        "created": created,
        "name": name,
        "error": error,
    }, status)


def _session_who(row_name: str) -> str:
    who = row_name.removeprefix(SESSION_ROW_PREFIX)
    return "admin token" if who == "admin" else who.replace("token:", "API token ")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
