"""ASGI middleware in front of the emulated API: records every request, injects faults.

``/_emulator/`` hooks pass straight through: they are neither recorded nor faulted.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incidentflow.emulator.faults import FaultPlan
from incidentflow.emulator.ids import new_request_id
from incidentflow.emulator.state import EmulatorState

CONTROL_PREFIX = "/_emulator"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _decoded(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def _record(scope: Scope, body: bytes, at: str) -> dict[str, Any]:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    return {
        "id": new_request_id(),
        "at": at,
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "headers": headers,
        "body": _decoded(body),
        "status": None,
    }


class ApiGate:
    def __init__(self, app: ASGIApp, state: EmulatorState, faults: FaultPlan):
        self.app, self.state, self.faults = app, state, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        record = _record(scope, body, self.state.now())
        self.state.requests.append(record)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
            await send(message)

        async def swallow(message: Message) -> None:
            return None

        fault = self.faults.take()
        if fault is None:
            await self.app(scope, replay, send_noting_status)
            return
        record["fault"] = fault.as_dict()
        if fault.when == "after":
            # The request takes effect; its response is lost on the way back.
            await self.app(scope, replay, swallow)
        await fault.problem().response()(scope, replay, send_noting_status)
