"""The incident.io emulator with the faults the proofs need, in-process or as a process.

    python proof_emulator.py PORT API_KEY DELAY_SECONDS

- ``SlowCreate``: ``POST /v2/incidents`` is handled at once (the incident exists) but
  answered only after DELAY seconds: a worker killed in that window has made the call
  and never seen the answer, the case an idempotency key exists for.
- ``Outage``: ``POST /_proof/outage {"seconds": S}`` makes every ``/v2/incidents``
  call for the next S seconds fail, alternating 500 and 429 (Retry-After: 1), with
  incident.io's error body, before the emulator sees it.
- ``GET /_proof/incidents``: every incident, the idempotency keys recorded, and how
  many create calls arrived (no request headers: they carry the API key).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incidentflow.emulator import create_emulator_app
from incidentflow.emulator.state import EmulatorState

CREATE = "/v2/incidents"


def _is_create(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == CREATE


class SlowCreate:
    """Holds the answer to ``POST /v2/incidents`` back for ``delay`` seconds."""

    def __init__(self, app: ASGIApp, delay: float):
        self.app, self.delay = app, delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_create(scope) or self.delay <= 0:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        await asyncio.sleep(self.delay)
        for message in held:
            await send(message)


class Outage:
    """Fails create calls until ``until`` (monotonic seconds), 500 and 429 in turn."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.until = 0.0
        self.failed = 0
        self._statuses = itertools.cycle((500, 429))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_create(scope) or time.monotonic() >= self.until:
            await self.app(scope, receive, send)
            return
        self.failed += 1
        await self._failure(next(self._statuses))(scope, receive, send)

    @staticmethod
    def _failure(status: int) -> Response:
        code = "too_many_requests" if status == 429 else "internal_error"
        body = {"type": code, "status": status, "request_id": "proof",
                "errors": [{"code": code, "message": "Injected outage"}]}
        headers = {"Retry-After": "1"} if status == 429 else {}
        return Response(json.dumps(body), status, headers, media_type="application/json")


class ProofEmulator:
    """The emulator app with the proof's faults and its ``/_proof/`` hooks."""

    def __init__(self, api_key: str, delay: float = 0.0):
        self.state = EmulatorState()
        self.emulator = create_emulator_app(self.state, api_key)
        self.outage = Outage(SlowCreate(self.emulator, delay))
        self.app = Starlette()
        self.app.add_route("/_proof/incidents", self.incidents, methods=["GET"])
        self.app.add_route("/_proof/outage", self.start_outage, methods=["POST"])
        self.app.mount("/", self.outage)

    def creates(self) -> int:
        return sum(1 for r in self.state.requests
                   if r["method"] == "POST" and r["path"] == CREATE)

    async def incidents(self, request: Request) -> JSONResponse:
        return JSONResponse({"incidents": self.state.incidents, "creates": self.creates(),
                             "keys": self.state.idempotency_keys,
                             "outage_failures": self.outage.failed})

    async def start_outage(self, request: Request) -> JSONResponse:
        seconds = float((await request.json())["seconds"])
        self.outage.until = time.monotonic() + seconds
        return JSONResponse({"until": self.outage.until})


if __name__ == "__main__":
    port, key, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    uvicorn.run(ProofEmulator(key, delay).app, host="127.0.0.1", port=port,
                log_level="warning")
