"""What every page handler shares: the host, the store's async face, settings, session codec
and templates."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from incidentflow.admin_service import AdminService
from incidentflow.web.ui import template_filters
from incidentflow.web.ui.session import (
    COOKIE_NAME,
    CSRF_FIELD,
    SESSION_SECONDS,
    Session,
    SessionCodec,
    csrf_ok,
)

if TYPE_CHECKING:
    from incidentflow.app_service import AppService
    from incidentflow.settings import Settings
    from incidentflow.store.async_port import AsyncStore

T = TypeVar("T")
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

# Messages shown after a redirect, chosen by a short code in the URL (never free text,
# so nobody can put words on our pages through a link).
NOTICES = {
    "saved": "Canvas saved.",
    "unchanged": "No changes: the canvas is the same as the current version.",
    "secret-set": "Signing secret stored. The trigger is operational.",
    "secret-cleared": "Signing secret cleared. Deliveries will be rejected until a new one is set.",
    "integration-saved": "Integration saved.",
    "integration-saved-unchecked": "Integration saved without a working check: see its status.",
    "signed-out": "You are signed out.",
    "node-saved": "Node saved as a new canvas version.",
    "node-added": "Node added: saved as a new canvas version.",
    "node-connected": "Connections saved as a new canvas version.",
    "node-renamed": "Node renamed: saved as a new canvas version.",
    "node-deleted": "Node deleted: saved as a new canvas version.",
    "canvas-started": "Canvas created. Add the next node from the palette.",
    "canvas-deleted": "Canvas deleted.",
    "integration-deleted": "Integration deleted.",
    "token-revoked": "Revoked. It is refused everywhere from now on.",
    "secret-saved": "Secret saved. Running workers use the new value within a few seconds.",
    "secret-deleted": "Secret deleted.",
    "node-released": "Node resumed: what it held is running now.",
    "node-discarded": "Node resumed: what it held was discarded and those runs are finished.",
    "paused": "Canvas paused. Deliveries are kept and start nothing until you resume it.",
    "resumed": "Canvas resumed.",
    "resume-choose": "Deliveries arrived while the canvas was paused: choose whether to "
                     "run or discard them.",
    "resumed-run": "Canvas resumed. What arrived while it was paused is running now.",
    "resumed-discard": "Canvas resumed. What arrived while it was paused was discarded.",
    "replayed": "Replay started: this is the new run, of the same trigger event.",
    "retried": "Execution queued again with the same idempotency key; the run is open again.",
}


class UiContext:
    def __init__(self, host: AppService, settings: Settings):
        self.host, self.settings = host, settings
        self.db: AsyncStore = host.db
        self.codec = SessionCodec(settings, host.store)
        self.operations = AdminService(host)
        self.templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
        self.templates.env.globals.update(template_filters.GLOBALS)
        self.templates.env.filters.update(template_filters.FILTERS)
        self.secure_cookie = settings.public_url.startswith("https://")

    async def in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn`` in a worker thread, for work that would hold up the event loop: a
        large drawing laid out or rendered, a draft parsed, a session's rows and hashes
        (store calls alone go through ``self.db``, the store's async face)."""
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))

    def page(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        session: Session | None = (
            request.state.session if hasattr(request.state, "session") else None
        )
        notice = NOTICES.get(request.query_params.get("notice", ""))
        full = {"session": session, "csrf_field": CSRF_FIELD, "notice": notice, **context}
        return self.templates.TemplateResponse(request, template, full, status_code=status)

    def set_session(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self.codec.encode(session),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookie,
            path="/",
        )

    async def form(self, request: Request) -> FormData:
        """The posted form, after checking its CSRF token against the session's."""
        form = await request.form()
        session: Session | None = getattr(request.state, "session", None)
        presented = form.get(CSRF_FIELD)
        if session is None or not csrf_ok(
            session, presented if isinstance(presented, str) else None
        ):
            raise HTTPException(
                403,
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again.",
            )
        return form


def ui(request: Request) -> UiContext:
    context: UiContext = request.app.state.ui
    return context


def redirect(request: Request, path: str, **query: str) -> RedirectResponse:
    """303 to a path inside the UI (prefixed with where the UI is mounted)."""
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(request.scope.get("root_path", "") + path + suffix, status_code=303)


def redirect_to_signin(request: Request, path: str) -> RedirectResponse:
    target = path if request.method == "GET" else "/"
    return redirect(request, "/signin", next=target)


def quoted(name: str) -> str:
    return quote(name, safe="")
