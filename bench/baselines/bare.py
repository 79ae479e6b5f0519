"""Baseline (a): the floor of the stack — Starlette answering 200 without reading anything
but the body. Every product figure is divided by this one to show the framework's share."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def receive(request: Request) -> Response:
    await request.body()
    return Response(status_code=200)


async def ready(request: Request) -> Response:
    return Response("ok")


app = Starlette(
    routes=[Route("/webhooks/{endpoint_id}", receive, methods=["POST"]), Route("/", ready)]
)
