"""The UI's Starlette app: routes, static files and the session gate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from incidentflow.errors import NotFound
from incidentflow.web.ui import (
    editor_live,
    pages_auth,
    pages_author,
    pages_canvases,
    pages_integrations,
    pages_nodes,
    pages_pause,
    pages_replays,
    pages_runs,
    pages_secrets,
    pages_tokens,
    pages_waiting,
    rate_limits,
)
from incidentflow.web.ui.context import UiContext, redirect_to_signin, ui
from incidentflow.web.ui.session import COOKIE_NAME

if TYPE_CHECKING:
    from incidentflow.app_service import AppService
    from incidentflow.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_PREFIX = "/static/"
FAVICON = "/favicon.ico"  # asked for by every browser, whatever the page's <link> says
PUBLIC_PREFIXES = ("/signin", STATIC_PREFIX)


def ui_app(host: AppService, settings: Settings) -> Starlette:
    app = Starlette(
        routes=_page_routes(),
        exception_handlers={NotFound: _not_found, HTTPException: _http_error},
    )
    app.state.ui = UiContext(host, settings)
    app.add_middleware(SessionGate)
    return app


def routes(host: AppService, settings: Settings) -> list[BaseRoute]:
    return [Mount("/", app=ui_app(host, settings), name="ui")]


def _page_routes() -> list[BaseRoute]:
    return [
        Route("/", pages_canvases.home),
        Route("/signin", pages_auth.signin_form, methods=["GET"]),
        Route("/signin", pages_auth.signin, methods=["POST"]),
        Route("/signout", pages_auth.signout, methods=["POST"]),
        Route("/canvases", pages_canvases.canvas_list, methods=["GET"]),
        Route("/canvases", pages_canvases.save_canvas, methods=["POST"]),
        Route("/canvases/new", pages_canvases.new_canvas),
        Route("/canvases/start", pages_author.start_canvas, methods=["POST"]),
        Route("/canvases/draft", editor_live.draft_fragment, methods=["POST"]),
        Route("/canvases/{name}", pages_canvases.canvas_page),
        Route("/canvases/{name}/edit", pages_canvases.edit_canvas),
        Route("/canvases/{name}/delete", pages_canvases.confirm_delete, methods=["GET"]),
        Route("/canvases/{name}/delete", pages_canvases.delete_canvas, methods=["POST"]),
        Route("/canvases/{name}/runs", pages_runs.run_list),
        Route("/canvases/{name}/add", pages_author.add_page, methods=["GET"]),
        Route("/canvases/{name}/add", pages_author.add_node, methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}/connect", pages_author.connect_node,
              methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}/rename", pages_author.rename_node,
              methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}/delete", pages_author.confirm_delete_node,
              methods=["GET"]),
        Route("/canvases/{name}/nodes/{node}/delete", pages_author.delete_node,
              methods=["POST"]),
        Route("/canvases/{name}/runs/replay", pages_replays.replay_runs, methods=["POST"]),
        Route("/canvases/{name}/replays/{batch}", pages_replays.replay_progress),
        Route("/canvases/{name}/pause", pages_pause.pause_canvas, methods=["POST"]),
        Route("/canvases/{name}/resume", pages_pause.resume_canvas, methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}", pages_nodes.node_page, methods=["GET"]),
        Route("/canvases/{name}/nodes/{node}", pages_nodes.save_node, methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}/secret", pages_nodes.set_secret, methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}/secret/clear", pages_nodes.confirm_clear_secret,
              methods=["GET"]),
        Route("/canvases/{name}/nodes/{node}/secret/clear", pages_nodes.clear_secret,
              methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}/run", pages_nodes.run_node, methods=["POST"]),
        Route("/canvases/{name}/nodes/{node}/resume", rate_limits.resume_node,
              methods=["POST"]),
        Route("/runs/{run_id}", pages_runs.run_page),
        Route("/runs/{run_id}/cancel", pages_waiting.cancel_run, methods=["POST"]),
        Route("/runs/{run_id}/approvals/{node}", pages_waiting.decide, methods=["POST"]),
        Route("/approvals", pages_waiting.approvals_page, methods=["GET"]),
        Route("/runs/{run_id}/replay", pages_runs.replay_run, methods=["POST"]),
        Route("/runs/{run_id}/executions/{execution_id}/retry", pages_runs.retry_execution,
              methods=["POST"]),
        Route("/integrations", pages_integrations.integration_list, methods=["GET"]),
        Route("/integrations", pages_integrations.save_integration, methods=["POST"]),
        Route("/integrations/{name}/delete", pages_integrations.confirm_delete, methods=["GET"]),
        Route("/integrations/{name}/delete", pages_integrations.delete_integration,
              methods=["POST"]),
        Route("/tokens", pages_tokens.token_list, methods=["GET"]),
        Route("/tokens", pages_tokens.create_token, methods=["POST"]),
        Route("/tokens/{token_id}/revoke", pages_tokens.confirm_revoke, methods=["GET"]),
        Route("/tokens/{token_id}/revoke", pages_tokens.revoke_token, methods=["POST"]),
        Route("/secrets", pages_secrets.secret_list, methods=["GET"]),
        Route("/secrets", pages_secrets.save_secret, methods=["POST"]),
        Route("/secrets/{name}/delete", pages_secrets.confirm_delete, methods=["GET"]),
        Route("/secrets/{name}/delete", pages_secrets.delete_secret, methods=["POST"]),
        Route(FAVICON, _favicon, methods=["GET", "HEAD"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


class SessionGate:
    """Reads the session cookie; sends anyone not signed in to the sign-in page."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        context = ui(request)
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        if path.startswith(STATIC_PREFIX) or path == FAVICON:  # no session, no store query
            await self.app(scope, receive, send)
            return
        # decode may ask the store whether the session was ended elsewhere: off the loop.
        session = await anyio.to_thread.run_sync(
            context.codec.decode, request.cookies.get(COOKIE_NAME)
        )
        scope.setdefault("state", {})["session"] = session
        public = path.startswith(PUBLIC_PREFIXES)
        if not public and (session is None or not session.signed_in):
            response = redirect_to_signin(request, path)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _favicon(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}{STATIC_PREFIX}favicon.svg", status_code=301)


async def _not_found(request: Request, exc: Exception) -> Response:
    return ui(request).page(request, "error.html", {"title": "Not found", "message": str(exc)}, 404)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = {403: "Forbidden", 404: "Not found", 405: "Not allowed"}.get(exc.status_code, "Error")
    message = exc.detail if exc.status_code != 404 else "There is nothing at this address."
    return ui(request).page(
        request, "error.html", {"title": title, "message": message}, exc.status_code
    )
