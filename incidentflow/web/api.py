"""The management API under ``/api/v1`` (bearer token required, JSON in camelCase).

A small Starlette app of its own, so its errors are always JSON
(``{"error": "...", "problems": [{node, field, message}]}``) whatever the UI does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.admin_service import AdminService
from incidentflow.app_service import AppService, UpstreamError, delivery_view
from incidentflow.approvals import Approvals, decision_in
from incidentflow.documents import json_object, load_document
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
)
from incidentflow.events import iso
from incidentflow.secrets_service import CanvasSecrets, check_name, secret_view, value_in
from incidentflow.store.port import TokenRecord
from incidentflow.web.api_runs import RunsApi
from incidentflow.web.openapi import openapi_document
from incidentflow.web.presenters import catalogue, displayable_run, run_view
from incidentflow.web.waiting import approval_view, waits_view
from incidentflow.web.webhooks import BodyTooLarge, read_limited

MAX_API_BODY_BYTES = 1024 * 1024
Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str, problems: list[Problem] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if problems is not None:
        body["problems"] = [p.as_dict() for p in problems]
    return JSONResponse(body, status_code=status)


class Api:
    """Route handlers bound to one :class:`AppService`."""

    def __init__(self, host: AppService):
        self.host = host
        self.ops = AdminService(host)
        self.secrets = CanvasSecrets(host)
        self.approvals = Approvals(host)

    # -- canvases ----------------------------------------------------------------
    async def list_canvases(self, request: Request) -> Response:
        return JSONResponse({"canvases": await self.host.list_canvases()})

    async def get_canvas(self, request: Request) -> Response:
        return JSONResponse(await self.host.canvas_view(request.path_params["name"]))

    async def put_canvas(self, request: Request) -> Response:
        name = request.path_params["name"]
        text = _utf8(await _body(request))
        content_type = request.headers.get("content-type", "")
        decode = json_object if "json" in content_type else load_document
        # In a worker thread: a canvas of thousands of edges takes ~0.1 s to read.
        document = await anyio.to_thread.run_sync(decode, text)
        saved, warnings = await self.host.apply_canvas(document, name=name, text=text)
        return JSONResponse({
            "name": saved.name,
            "version": saved.version,
            "created": saved.created,
            "warnings": [w.as_dict() for w in warnings],
        })

    async def delete_canvas(self, request: Request) -> Response:
        await self.host.delete_canvas(request.path_params["name"])
        return Response(status_code=204)

    # -- runs ----------------------------------------------------------------------
    async def run_node(self, request: Request) -> Response:
        payload = await _optional_json_object(request)
        run_id = await self.host.run_manual(
            request.path_params["name"], request.path_params["node"], payload
        )
        return JSONResponse({"runId": run_id}, status_code=202)

    async def run_hook(self, request: Request) -> Response:
        params = await _optional_json_object(request)
        p = request.path_params
        result = await self.host.run_hook(p["name"], p["node"], p["hook"], params)
        return JSONResponse({"node": p["node"], "live": result})

    async def resume_node(self, request: Request) -> Response:
        body = json_object(_utf8(await _body(request)))
        p = request.path_params
        return JSONResponse(await self.host.resume_node(p["name"], p["node"], body.get("held")))

    async def get_run(self, request: Request) -> Response:
        run = await self.host.get_run(request.path_params["run_id"])
        waits = await anyio.to_thread.run_sync(self.host.store.run_waits, run.id)
        return JSONResponse({**run_view(displayable_run(run), self.host.registry),
                             "waitingFor": waits_view(run, waits)})

    # -- approvals and cancelling waiting runs (docs/time.md) ---------------------------
    async def decide(self, request: Request) -> Response:
        decision = decision_in(json_object(_utf8(await _body(request))))
        p = request.path_params
        wait = await self.approvals.decide(p["run_id"], p["node"], decision, _who(request))
        return JSONResponse({"runId": wait.run_id, "node": wait.node,
                             "executionId": wait.execution_id,
                             "decision": decision.decision, "by": _who(request),
                             "comment": decision.comment})

    async def waiting_approvals(self, request: Request) -> Response:
        found = await self.approvals.waiting_for(_who(request))
        return JSONResponse({"approvals": [approval_view(w) for w in found]})

    async def cancel_run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        await self.approvals.cancel(run_id, _who(request))
        return JSONResponse({"runId": run_id, "state": "cancelled"})

    # -- pause / resume and the delivery log (docs/runaway.md) --------------------------
    async def pause_canvas(self, request: Request) -> Response:
        return JSONResponse(await self.host.pause_canvas(request.path_params["name"]))

    async def resume_canvas(self, request: Request) -> Response:
        body = await _optional_json_object(request)
        pending = body.get("pending")
        if pending is not None and not isinstance(pending, str):
            raise InvalidInput('pending must be "run" or "discard"',
                               [Problem('must be "run" or "discard"', field="pending")])
        return JSONResponse(await self.host.resume_canvas(request.path_params["name"], pending))

    async def node_deliveries(self, request: Request) -> Response:
        p = request.path_params
        found = await self.host.node_deliveries(p["name"], p["node"], _limit(request))
        return JSONResponse({"deliveries": [delivery_view(d) for d in found]})

    # -- API tokens --------------------------------------------------------------------
    async def create_token(self, request: Request) -> Response:
        body = json_object(_utf8(await _body(request)))
        created = await self.ops.create_token(body.get("name"))
        # The only time the token is ever shown.
        return JSONResponse({**token_view(created.record), "token": created.token},
                            status_code=201)

    async def list_tokens(self, request: Request) -> Response:
        return JSONResponse({"tokens": [token_view(t) for t in await self.ops.list_tokens()]})

    async def revoke_token(self, request: Request) -> Response:
        record = await self.ops.revoke_token(request.path_params["token_id"])
        return JSONResponse(token_view(record))

    # -- secrets for canvases (values go in, never come out) ---------------------------
    async def list_secrets(self, request: Request) -> Response:
        return JSONResponse({"secrets": [secret_view(r) for r in await self.secrets.records()]})

    async def put_secret(self, request: Request) -> Response:
        name = check_name(request.path_params["name"])
        value = value_in(json_object(_utf8(await _body(request))))
        return JSONResponse(secret_view(await self.secrets.put(name, value)))

    async def delete_secret(self, request: Request) -> Response:
        await self.secrets.delete(check_name(request.path_params["name"]))
        return Response(status_code=204)

    # -- integrations ----------------------------------------------------------------
    async def list_integrations(self, request: Request) -> Response:
        return JSONResponse({"integrations": await self.host.list_integrations()})

    async def get_integration(self, request: Request) -> Response:
        return JSONResponse(await self.host.get_integration(request.path_params["name"]))

    async def put_integration(self, request: Request) -> Response:
        body = json_object(_utf8(await _body(request)))
        type_, configuration = _integration_request(body)
        view = await self.host.put_integration(request.path_params["name"], type_, configuration)
        return JSONResponse(view)

    async def delete_integration(self, request: Request) -> Response:
        await self.host.delete_integration(request.path_params["name"])
        return Response(status_code=204)

    async def list_resources(self, request: Request) -> Response:
        resource_type = request.query_params.get("type")
        if not resource_type:
            raise Malformed("the query parameter 'type' is required (e.g. ?type=severity)")
        query = request.query_params.get("query", "")  # searchable types, e.g. users
        resources = await self.host.list_resources(
            request.path_params["name"], resource_type, query)
        return JSONResponse({"resources": resources})

    # -- catalogue -------------------------------------------------------------------
    async def components(self, request: Request) -> Response:
        return JSONResponse(catalogue(self.host.registry))

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

    def routes(self) -> list[Route]:
        return [
            Route("/canvases", self.list_canvases, methods=["GET"]),
            Route("/canvases/{name}", self.get_canvas, methods=["GET"]),
            Route("/canvases/{name}", self.put_canvas, methods=["PUT"]),
            Route("/canvases/{name}", self.delete_canvas, methods=["DELETE"]),
            Route("/canvases/{name}/nodes/{node}/run", self.run_node, methods=["POST"]),
            Route("/canvases/{name}/pause", self.pause_canvas, methods=["POST"]),
            Route("/canvases/{name}/resume", self.resume_canvas, methods=["POST"]),
            Route("/canvases/{name}/nodes/{node}/deliveries", self.node_deliveries,
                  methods=["GET"]),
            Route("/canvases/{name}/nodes/{node}/hooks/{hook}", self.run_hook, methods=["POST"]),
            Route("/canvases/{name}/nodes/{node}/resume", self.resume_node, methods=["POST"]),
            Route("/runs/{run_id}", self.get_run, methods=["GET"]),
            Route("/runs/{run_id}/cancel", self.cancel_run, methods=["POST"]),
            Route("/runs/{run_id}/approvals/{node}", self.decide, methods=["POST"]),
            Route("/approvals", self.waiting_approvals, methods=["GET"]),
            Route("/tokens", self.list_tokens, methods=["GET"]),
            Route("/tokens", self.create_token, methods=["POST"]),
            Route("/tokens/{token_id}", self.revoke_token, methods=["DELETE"]),
            Route("/secrets", self.list_secrets, methods=["GET"]),
            Route("/secrets/{name}", self.put_secret, methods=["PUT"]),
            Route("/secrets/{name}", self.delete_secret, methods=["DELETE"]),
            Route("/integrations", self.list_integrations, methods=["GET"]),
            Route("/integrations/{name}", self.get_integration, methods=["GET"]),
            Route("/integrations/{name}", self.put_integration, methods=["PUT"]),
            Route("/integrations/{name}", self.delete_integration, methods=["DELETE"]),
            Route("/integrations/{name}/resources", self.list_resources, methods=["GET"]),
            Route("/components", self.components, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
            # runs at scale, replay, retry (web/api_runs.py)
            *RunsApi(self.host, _optional_json_object).routes(),
        ]


def api_app(host: AppService) -> Starlette:
    """The API as an ASGI app (mount it at /api/v1 behind BearerAuth)."""
    return Starlette(routes=Api(host).routes(), exception_handlers=EXCEPTION_HANDLERS)


def token_view(record: TokenRecord) -> dict[str, Any]:
    """A token's metadata (the token itself is never stored, so never returned)."""
    return {
        "id": record.id,
        "name": record.name,
        "createdAt": iso(record.created_at),
        "lastUsedAt": iso(record.last_used_at) if record.last_used_at else None,
        "revoked": record.revoked,
        "revokedAt": iso(record.revoked_at) if record.revoked_at else None,
    }


# -- request helpers ----------------------------------------------------------------------


async def _body(request: Request) -> bytes:
    try:
        return await read_limited(request, MAX_API_BODY_BYTES)
    except BodyTooLarge:
        raise HTTPException(413, f"body larger than {MAX_API_BODY_BYTES} bytes") from None


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body must be UTF-8 text") from None


async def _optional_json_object(request: Request) -> dict[str, Any]:
    text = _utf8(await _body(request)).strip()
    return json_object(text) if text else {}


def _integration_request(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    type_ = body.get("type")
    configuration = body.get("configuration", {})
    problems = []
    if not isinstance(type_, str) or not type_:
        problems.append(Problem("is required (e.g. \"incident\")", field="type"))
    if not isinstance(configuration, dict):
        problems.append(Problem("must be an object", field="configuration"))
    if problems:
        raise InvalidInput("invalid integration", problems)
    return str(type_), configuration


def _who(request: Request) -> str:
    """The name of the API token (or "admin") the request came with."""
    return str(request.state.principal.name)


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise Malformed("limit must be a whole number from 1 to 500")
    return int(raw)


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
