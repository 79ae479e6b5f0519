"""The HTTP side of the webhook receiver: ``POST /webhooks/{endpoint_id}``.

Only HTTP here: the endpoint id's shape and the body's size limit; everything else
about a delivery happens in ``incidentflow/receiver.py``.

Answers are short and generic (docs/design-rules.md, "Generic answers"); the reason of
a rejection goes to the logs and the delivery counters, never back to the caller.
Header limits (431) apply to every route, this one included, at the edge of the app
(web/headers.py, web/protocol.py).

The handler is plain ASGI (``deliver``), so that the app's edge can call it straight,
without Starlette's router and middleware in between (``web/webhook_edge.py``: at an
alert storm's rate those layers cost about as much as the receiver itself); the route
below serves it under any other stack (and answers 405 to other methods).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from incidentflow.components.base import RejectionCode, rejection_answer
from incidentflow.receiver import Receiver

MAX_BODY_BYTES = 512 * 1024
# Endpoint ids are token_urlsafe strings; anything else cannot exist, so skip the DB.
_ENDPOINT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
Headers = list[tuple[bytes, bytes]]
Trailer = Sequence[tuple[bytes, bytes]]


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or BodyTooLarge as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(headers: Headers, receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """``read_limited`` on raw ASGI: the body of the request whose ``headers`` these
    are, read from ``receive``; BodyTooLarge as soon as it passes ``limit`` bytes (or
    says it will), ClientDisconnect if the client goes away first."""
    for name, value in headers:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def deliver(receiver: Receiver, endpoint_id: str, scope: Scope, receive: Receive,
                  send: Send, trailer: Trailer = ()) -> int:
    """Answer one delivery to ``endpoint_id``, ``trailer`` last among the answer's
    headers; returns the status sent."""
    if not _ENDPOINT_ID.fullmatch(endpoint_id):
        return await _refused(send, RejectionCode.UNKNOWN_ENDPOINT, [], trailer)
    raw: Headers = scope["headers"]
    try:
        body = await read_body(raw, receive)
    except BodyTooLarge:
        # Connection: close, because the rest of the body is never read.
        return await _refused(send, RejectionCode.TOO_LARGE, [(b"connection", b"close")], trailer)
    except ClientDisconnect:
        return await send_answer(send, 400, b"", [(b"content-length", b"0"), *trailer])
    # As dict(Starlette's Headers) did: names as sent (lower case in ASGI), the last wins.
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    status, public = await receiver.receive(endpoint_id, headers, body)
    return await send_json(send, status, public, [], trailer)


async def _refused(send: Send, code: RejectionCode, first: Headers,
                   trailer: Trailer) -> int:
    status, public = rejection_answer(code)
    return await send_json(send, status, {"error": public}, first, trailer)


async def send_json(send: Send, status: int, content: Any, first: Headers,
                    trailer: Trailer) -> int:
    """``content`` as Starlette's JSONResponse encodes it (compact, UTF-8), with its
    headers in the order it sets them."""
    body = _encoded(content)
    head = [*first, (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"), *trailer]
    return await send_answer(send, status, body, head)


def _encoded(content: dict[str, Any]) -> bytes:
    """``content`` encoded; the few answers there are (``{"status": "accepted"}``, ...)
    encoded once each: ``json.dumps`` with options builds an encoder per call, a
    visible share of a delivery's CPU under load. Only answers of strings are kept
    (``True`` and ``1`` would be one key), and only so many of them."""
    key = tuple(content.items())
    plain = all(type(value) is str for _, value in key)
    found = _ANSWERS.get(key) if plain else None
    if found is not None:
        return found
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")
    if plain and len(_ANSWERS) < _ANSWERS_KEPT:
        _ANSWERS[key] = body
    return body


_ANSWERS: dict[tuple[tuple[str, Any], ...], bytes] = {}  # dict operations are atomic
_ANSWERS_KEPT = 64


async def send_answer(send: Send, status: int, body: bytes, headers: Headers) -> int:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status


class _WebhookRoute:
    """The route's ASGI app (Starlette has matched the path and the method); a class,
    since Starlette wraps a plain function as a request → response endpoint."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        receiver: Receiver = scope["app"].state.receiver
        await deliver(receiver, scope["path_params"]["endpoint_id"], scope, receive, send)


receive_webhook = _WebhookRoute()


def webhook_routes() -> list[Route]:
    return [Route("/webhooks/{endpoint_id}", receive_webhook, methods=["POST"])]
