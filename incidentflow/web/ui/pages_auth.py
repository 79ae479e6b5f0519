"""Sign in with a token, sign out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.web.throttle import client_of, throttle_for
from incidentflow.web.ui.context import redirect, ui
from incidentflow.web.ui.session import COOKIE_NAME, authenticate, new_anonymous

if TYPE_CHECKING:
    from incidentflow.settings import Settings


async def signin_form(request: Request) -> Response:
    context = ui(request)
    session = request.state.session
    if session is not None and session.signed_in:
        return redirect(request, _safe_next(request.query_params.get("next")))
    if session is None:  # the form needs a CSRF token, so even anonymous visitors get one
        session = new_anonymous()
        request.state.session = session
    response = context.page(request, "signin.html", _form_context(request, error=None))
    context.set_session(response, session)
    return response


async def signin(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    throttle, client = throttle_for(context.settings), client_of(request.scope)
    wait = throttle.retry_after(client)
    if wait is not None:  # refused before the token is even looked at
        response = context.page(
            request, "signin.html",
            _form_context(request, error=f"Too many failed sign-ins from your address. "
                          f"Try again in {wait} seconds.", next_=form.get("next")),
            status=429,
        )
        response.headers["retry-after"] = str(wait)
        return response
    token = str(form.get("token") or "")
    who = await context.in_thread(authenticate, context.settings, token, context.host.store)
    if not who:
        if token.strip():  # an empty form is not a guess
            throttle.failed(client)
        response = context.page(
            request,
            "signin.html",
            _form_context(request, error="That token was not accepted.", next_=form.get("next")),
            status=401,
        )
        return response
    throttle.succeeded(client)
    response = redirect(request, _safe_next(str(form.get("next") or "")))
    session = await context.in_thread(context.codec.sign_in, request.state.session, who)
    context.set_session(response, session)
    return response


async def signout(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    await context.in_thread(context.codec.sign_out, request.state.session)
    response = redirect(request, "/signin", notice="signed-out")
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


def _form_context(request: Request, error: str | None, next_: object = None) -> dict[str, object]:
    target = next_ if isinstance(next_, str) else request.query_params.get("next", "/")
    return {"title": "Sign in", "error": error, "next": _safe_next(target),
            "token_file": _admin_token_file(ui(request).settings)}


def _admin_token_file(settings: Settings) -> str | None:
    """Where this server keeps its generated admin token (as configured, e.g. from
    INCIDENTFLOW_DATA_DIR); None when the token came from INCIDENTFLOW_ADMIN_TOKEN."""
    path = settings.data_dir / "admin.token"
    return str(path) if path.is_file() else None


def _safe_next(target: str | None) -> str:
    """Only paths on this site: ``//evil.example`` or ``https://...`` become ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
