"""The management API under ``/api/v1`` (bearer token required, JSON in camelCase).

A small Starlette app of its own, so its errors are always JSON
(``{"error": "...", "problems": [{node, field, message}]}``) whatever the UI does. Its
handlers live by room: ``api_canvases.py``, ``api_runs.py``, ``api_approvals.py``,
``api_credentials.py``, ``api_integrations.py`` (what they read from a request:
``api_requests.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.errors import (
    CanvasError,
    ConfigurationError,
    Conflict,
    ExpressionError,
    Forbidden,
    InvalidInput,
    Malformed,
    NotFound,
    Problem,
    UpstreamError,
)
from incidentflow.web.api_approvals import ApprovalsApi
from incidentflow.web.api_canvases import CanvasesApi
from incidentflow.web.api_credentials import CredentialsApi
from incidentflow.web.api_integrations import IntegrationsApi
from incidentflow.web.api_runs import RunsApi
from incidentflow.web.openapi import openapi_document
from incidentflow.web.presenters import catalogue

if TYPE_CHECKING:
    from incidentflow.app_service import AppService
    from incidentflow.registry import Registry



def error(status: int, message: str, problems: list[Problem] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if problems is not None:
        body["problems"] = [p.as_dict() for p in problems]
    return JSONResponse(body, status_code=status)


def api_routes(host: AppService) -> list[Route]:
    """Every route of the API, room by room (``web/api_*.py``)."""
    return [
        *CanvasesApi(host).routes(),
        *ApprovalsApi(host).routes(),
        *CredentialsApi(host).routes(),
        *IntegrationsApi(host).routes(),
        # runs, runs at scale, replay, retry
        *RunsApi(host).routes(),
        Route("/components", partial(_components, host.registry), methods=["GET"]),
        Route("/openapi.json", _openapi, methods=["GET"]),
    ]


def api_app(host: AppService) -> Starlette:
    """The API as an ASGI app (mount it at /api/v1 behind BearerAuth)."""
    return Starlette(routes=api_routes(host), exception_handlers=EXCEPTION_HANDLERS)


async def _components(registry: Registry, request: Request) -> Response:
    return JSONResponse(catalogue(registry))


async def _openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


# -- errors -------------------------------------------------------------------------------


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(404, str(exc))


async def _conflict(request: Request, exc: Exception) -> Response:
    return error(409, str(exc))


async def _forbidden(request: Request, exc: Exception) -> Response:
    return error(403, str(exc))


async def _canvas_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CanvasError)
    return error(422, "the canvas is not valid", exc.problems)


async def _expression_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ExpressionError)
    return error(422, str(exc), [Problem(exc.detail, node=exc.node, field=exc.field)])


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput)
    status = 400 if isinstance(exc, Malformed) else 422
    return error(status, str(exc), exc.problems)


async def _upstream(request: Request, exc: Exception) -> Response:
    return error(502, str(exc))


async def _configuration(request: Request, exc: Exception) -> Response:
    return error(500, str(exc))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


EXCEPTION_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    NotFound: _not_found,
    Conflict: _conflict,
    Forbidden: _forbidden,
    CanvasError: _canvas_error,
    ExpressionError: _expression_error,
    InvalidInput: _invalid,
    UpstreamError: _upstream,
    ConfigurationError: _configuration,
    HTTPException: _http,
}
