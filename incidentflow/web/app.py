"""The ASGI app factory: ``create_app(settings, ...)``.

Route table, in order (first match wins):

    GET  /healthz                      open: liveness (the process answers)
    GET  /readyz                       open: readiness (the database answers), web/ops.py
    GET  /metrics                      Prometheus text; open unless a metrics token is set
    POST /webhooks/{endpoint_id}       open, signature-checked by the trigger
    /api/v1/...                        management API, bearer token (web/api.py)
    /...                               UI pages (web/ui: ``routes(host, settings)``)

The lifespan starts the engine worker in this process (unless ``start_workers`` is
False; it runs up to ``settings.worker_concurrency`` executions at once) and stops it
gracefully: running executions finish, leases are handed back. It also runs the
retention pruner (``INCIDENTFLOW_RETENTION_DAYS``, web/ops.py).

The store's async face counts the outcomes the host and the worker record
(``store_metrics.StoreMetrics``, given to ``Store.meter_outcomes``); webhook deliveries are
timed by ``web/webhook_edge.py`` (by ``metrics.webhook_timer`` when they reach the router).

Around everything (``EdgeApp``): security headers on every answer and header limits
(web/headers.py); the API's bearer tokens and the UI sign-in share one sign-in
throttle (web/throttle.py). See docs/security.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from incidentflow import metrics, retention
from incidentflow.app_service import AppService
from incidentflow.crypto import SecretBox
from incidentflow.egress_transport import egress_client
from incidentflow.log_setup import register_secret
from incidentflow.store_metrics import StoreMetrics
from incidentflow.web.api import api_app
from incidentflow.web.auth import (
    AdminTokenVerifier,
    ApiTokenVerifier,
    BearerAuth,
    TokenVerifier,
)
from incidentflow.web.headers import HeaderLimits, SecurityHeaders
from incidentflow.web.ops import Pruner, ops_routes
from incidentflow.web.throttle import throttle_for
from incidentflow.web.webhook_edge import WebhookEdge
from incidentflow.web.webhooks import webhook_routes

if TYPE_CHECKING:
    from incidentflow.engine.wakeup import Wakeup
    from incidentflow.registry import Registry
    from incidentflow.settings import Settings
    from incidentflow.store.port import Store

log = logging.getLogger(__name__)
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
STOP_GRACE_SECONDS = 10.0


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    registry: Registry | None = None,
    http: httpx.AsyncClient | None = None,
    start_workers: bool = True,
    verifiers: list[TokenVerifier] | None = None,
    metrics_token: str | None = None,
    retention_days: int | None = None,
) -> Starlette:
    """Assemble the app. Objects passed in stay owned by the caller (not closed); a
    store passed in reports its outcomes to this app's metrics from now on.

    ``retention_days`` None reads ``INCIDENTFLOW_RETENTION_DAYS`` (0 keeps forever)."""
    if registry is None:
        from incidentflow.registry import default_registry

        registry = default_registry()
    owned_store = store is None
    if store is None:
        from incidentflow.store import open_store

        store = open_store(settings.database_url, registry)
    owned_http = http is None
    # Every outgoing call goes through the egress policy (docs/egress.md).
    http = http or egress_client(HTTP_TIMEOUT)
    register_secret(settings.admin_token)
    wakeup = _make_wakeup(settings, store)
    register_secret(metrics_token)
    store.meter_outcomes(StoreMetrics())
    host = AppService(settings, store, registry, SecretBox(settings.secret_key), http, wakeup)
    verifiers = verifiers or [AdminTokenVerifier(settings.admin_token), ApiTokenVerifier(store)]
    _bind_ui_tokens(settings, store)
    days = retention.retention_days() if retention_days is None else retention_days
    pruner = Pruner(store, days, host.clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Read when the app starts, not when it is built: serve's forked worker process
        # (worker_process.py) runs the workers of the app its parent built.
        workers = _WorkerPool(host) if app.state.start_workers else None
        if workers:
            await workers.start()
        pruner.start()
        try:
            yield
        finally:
            await pruner.stop()
            if workers:
                await workers.stop()
            if owned_http:
                await http.aclose()
            if owned_store:
                store.close()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        *ops_routes(store, host.clock, metrics_token),
        *webhook_routes(),
        Mount("/api/v1", app=BearerAuth(api_app(host), verifiers, throttle_for(settings))),
        *ui_routes(host, settings),
    ]
    app = EdgeApp(routes=routes, lifespan=lifespan,
                  middleware=[Middleware(metrics.webhook_timer)])
    app.state.host = host
    app.state.start_workers = start_workers
    app.state.receiver = host.receiver
    app.state.settings = settings
    app.state.pruner = pruner
    return app


class EdgeApp(Starlette):
    """The app with its HTTP edge outermost, around Starlette's own error handling:
    security headers on every answer (a 500 too), header limits before anything runs
    (web/headers.py); webhook deliveries answered at the edge itself
    (web/webhook_edge.py)."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        limited = HeaderLimits(super().build_middleware_stack(), settings.max_header_bytes,
                               settings.max_headers)
        return WebhookEdge(SecurityHeaders(limited), lambda: self.state.receiver,
                           settings.max_header_bytes, settings.max_headers)


def _bind_ui_tokens(settings: Settings, store: Store) -> None:
    """Let the UI sign-in accept API tokens too (when the UI package is present)."""
    try:
        from incidentflow.web.ui.session import bind_token_store
    except ModuleNotFoundError:
        return
    bind_token_store(settings, store)


def ui_routes(host: AppService, settings: Settings) -> list[BaseRoute]:
    """The UI's pages, when the UI package is installed (it is optional at this layer)."""
    try:
        from incidentflow.web.ui import routes
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("incidentflow.web.ui"):
            return []
        raise
    return list(routes(host, settings))


async def healthz(request: Request) -> Response:
    """Liveness only: a database outage must not make an orchestrator restart every
    replica (that is what /readyz is for)."""
    return JSONResponse({"status": "ok"})


def _make_wakeup(settings: Settings, store: Store) -> Wakeup:
    """The engine's notifier, wired so store commits that create work wake workers."""
    from incidentflow.engine.wakeup import Wakeup

    wakeup = Wakeup(settings.worker_poll_seconds)
    store.wake_on_work(wakeup.notify)
    return wakeup


class _WorkerPool:
    """The engine worker on this event loop. One ``Worker`` runs up to
    ``settings.worker_concurrency`` executions at once, so one is enough per process."""

    def __init__(self, host: AppService):
        self.host = host
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        from incidentflow.engine.worker import Worker

        h = self.host
        worker = Worker(h.store, h.registry, h.box, h.http, h.settings, h.wakeup)
        self.task = asyncio.create_task(worker.run(self.stop_event))
        self.task.add_done_callback(_log_crash)
        log.info("worker %s started (up to %d at once)", worker.id, h.settings.worker_concurrency)

    async def stop(self) -> None:
        """Let running executions finish (the worker hands back its leases)."""
        if self.task is None:
            return
        self.stop_event.set()
        done, _ = await asyncio.wait([self.task], timeout=STOP_GRACE_SECONDS)
        if not done:  # a stuck component: cancel; the worker still releases its leases
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # logged by _log_crash
            await self.task


def _log_crash(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the worker stopped with an error", exc_info=task.exception())
