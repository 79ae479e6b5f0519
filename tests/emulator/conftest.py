"""Fixtures for the emulator tests: an app client and a real webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_support import API_KEY, FAST_RETRIES, Receiver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from incidentflow.emulator import create_emulator_app, serve_in_thread


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_emulator_app(api_keys=API_KEY, retry_schedule=FAST_RETRIES)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    async def receive(request: Request) -> Response:
        state.received.put((dict(request.headers), await request.body()))
        return Response(status_code=state.next_status())

    app = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        state.url = f"{base_url}/hook"
        yield state
