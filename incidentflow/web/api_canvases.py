"""The management API's canvases: list, read, save, delete; run a start node by hand, a
node's hooks (the signing secret), untrip a node's create rate limit; pause, resume and
a trigger's delivery log (docs/runaway.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.canvas_views import delivery_view
from incidentflow.documents import json_object, load_document
from incidentflow.errors import InvalidInput, Problem
from incidentflow.web.api_requests import (
    body_text,
    json_body,
    limit_of,
    optional_json_object,
)

if TYPE_CHECKING:
    from incidentflow.app_service import AppService


class CanvasesApi:
    def __init__(self, host: AppService):
        self.host = host

    async def list_canvases(self, request: Request) -> Response:
        return JSONResponse({"canvases": await self.host.canvas_views.list_canvases()})

    async def get_canvas(self, request: Request) -> Response:
        return JSONResponse(await self.host.canvas_views.canvas_view(request.path_params["name"]))

    async def put_canvas(self, request: Request) -> Response:
        name = request.path_params["name"]
        text = await body_text(request)
        content_type = request.headers.get("content-type", "")
        decode = json_object if "json" in content_type else load_document
        # In a worker thread: a canvas of thousands of edges takes ~0.1 s to read.
        document = await anyio.to_thread.run_sync(decode, text)
        saved, warnings = await self.host.canvases.apply_canvas(document, name=name, text=text)
        return JSONResponse({
            "name": saved.name,
            "version": saved.version,
            "created": saved.created,
            "warnings": [w.as_dict() for w in warnings],
        })

    async def delete_canvas(self, request: Request) -> Response:
        await self.host.canvases.delete_canvas(request.path_params["name"])
        return Response(status_code=204)

    async def run_node(self, request: Request) -> Response:
        payload = await optional_json_object(request)
        run_id = await self.host.canvases.run_manual(
            request.path_params["name"], request.path_params["node"], payload
        )
        return JSONResponse({"runId": run_id}, status_code=202)

    async def run_hook(self, request: Request) -> Response:
        params = await optional_json_object(request)
        p = request.path_params
        result = await self.host.canvases.run_hook(p["name"], p["node"], p["hook"], params)
        return JSONResponse({"node": p["node"], "live": result})

    async def resume_node(self, request: Request) -> Response:
        body = await json_body(request)
        p = request.path_params
        return JSONResponse(
            await self.host.canvases.resume_node(p["name"], p["node"], body.get("held")))

    async def pause_canvas(self, request: Request) -> Response:
        return JSONResponse(await self.host.canvases.pause_canvas(request.path_params["name"]))

    async def resume_canvas(self, request: Request) -> Response:
        body = await optional_json_object(request)
        pending = body.get("pending")
        if pending is not None and not isinstance(pending, str):
            raise InvalidInput('pending must be "run" or "discard"',
                               [Problem('must be "run" or "discard"', field="pending")])
        return JSONResponse(
            await self.host.canvases.resume_canvas(request.path_params["name"], pending))

    async def node_deliveries(self, request: Request) -> Response:
        p = request.path_params
        found = await self.host.canvases.node_deliveries(p["name"], p["node"], limit_of(request))
        return JSONResponse({"deliveries": [delivery_view(d) for d in found]})

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
        ]
