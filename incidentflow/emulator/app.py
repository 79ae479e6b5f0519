"""``create_emulator_app``: the emulated incident.io, assembled in one place."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from incidentflow.emulator import (
    alerts,
    api,
    control,
    endpoints,
    escalations,
    follow_ups,
    organisation_api,
    responder_hooks,
)
from incidentflow.emulator.auth import normalise_api_keys
from incidentflow.emulator.faults import FaultPlan
from incidentflow.emulator.gate import ApiGate
from incidentflow.emulator.problems import ApiProblem, ErrorDetail
from incidentflow.emulator.state import EmulatorState
from incidentflow.emulator.webhooks import SVIX_SCHEDULE, WebhookDispatcher

DEFAULT_API_KEY = "emulator-key"


async def _render_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return exc.response()


async def _render_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return ApiProblem(exc.status_code, kind, [ErrorDetail(kind, str(exc.detail))]).response()


def create_emulator_app(
    state: EmulatorState | None = None,
    api_keys: str | Iterable[str] | Mapping[str, Iterable[str]] = DEFAULT_API_KEY,
    *,
    webhook_endpoints: Sequence[tuple[str, str | None]] = (),
    retry_schedule: Sequence[float] = SVIX_SCHEDULE,
    faults: FaultPlan | None = None,
    permalink_base: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The emulator as an ASGI app.

    ``api_keys``: one key, several, or ``{key: scopes}`` to emulate a key missing a
    permission. ``webhook_endpoints``: ``(url, secret)`` pairs registered at start (and
    again after a reset); a ``None`` secret is generated. ``retry_schedule``: seconds to
    wait before each delivery attempt. Webhooks need a running event loop between
    requests: serve with uvicorn, or use ``with TestClient(app)``.
    """
    state = state or EmulatorState()
    faults = faults or FaultPlan()
    for url, secret in webhook_endpoints:
        endpoints.register(state, url, secret)
    dispatcher = WebhookDispatcher(state, retry_schedule, transport)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await dispatcher.cancel_all()

    app = Starlette(
        routes=[*api.ROUTES, *organisation_api.ROUTES, *follow_ups.ROUTES,
                *escalations.ROUTES, *alerts.ROUTES, *control.ROUTES,
                *responder_hooks.ROUTES],
        middleware=[Middleware(ApiGate, state=state, faults=faults)],
        exception_handlers={ApiProblem: _render_problem, HTTPException: _render_http_error},
        lifespan=lifespan,
    )
    app.state.emulator = state
    app.state.dispatcher = dispatcher
    app.state.faults = faults
    app.state.api_keys = normalise_api_keys(api_keys)
    app.state.permalink_base = permalink_base
    app.state.initial_endpoints = dict(state.endpoints)
    return app
