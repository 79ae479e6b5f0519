"""The HTTP side of the webhook receiver: ``POST /webhooks/{endpoint_id}``.

Only HTTP here: the endpoint id's shape and the body's size limit; everything else
about a delivery happens in ``incidentflow/receiver.py``.

Answers are short and generic (docs/design-rules.md, "Generic answers"); the reason of
a rejection goes to the logs and the delivery counters, never back to the caller.
Header limits (431) apply to every route, this one included, at the edge of the app
(web/headers.py, web/protocol.py).
"""

from __future__ import annotations

import re

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.components.base import RejectionCode, rejection_answer
from incidentflow.receiver import Receiver

MAX_BODY_BYTES = 512 * 1024
# Endpoint ids are token_urlsafe strings; anything else cannot exist, so skip the DB.
_ENDPOINT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


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


async def receive_webhook(request: Request) -> Response:
    endpoint_id = request.path_params["endpoint_id"]
    if not _ENDPOINT_ID.fullmatch(endpoint_id):
        return _refused(RejectionCode.UNKNOWN_ENDPOINT)
    try:
        body = await read_limited(request)
    except BodyTooLarge:
        # Connection: close, because the rest of the body is never read.
        return _refused(RejectionCode.TOO_LARGE, {"connection": "close"})
    except ClientDisconnect:
        return Response(status_code=400)
    receiver: Receiver = request.app.state.receiver
    status, public = await receiver.receive(endpoint_id, dict(request.headers), body)
    return JSONResponse(public, status_code=status)


def _refused(code: RejectionCode, headers: dict[str, str] | None = None) -> Response:
    status, public = rejection_answer(code)
    return JSONResponse({"error": public}, status_code=status, headers=headers)


def webhook_routes() -> list[Route]:
    return [Route("/webhooks/{endpoint_id}", receive_webhook, methods=["POST"])]
