"""HTTP headers at the edge of the app: security headers on every answer, and limits
on what a request may bring.

``SecurityHeaders`` adds the headers below to every response of the app, pages, API,
webhooks and errors alike, unless a handler already set that header itself.

``HeaderLimits`` answers 431 when a request carries more header fields, or more header
bytes, than the settings allow. The HTTP parser that ``incidentflow serve`` runs
(``web/protocol.py``) enforces the same limits while the bytes arrive, before they are
buffered; this middleware makes them hold under any ASGI server (and in tests).

Both are outermost, around Starlette's own error handling, so a 500 carries the
security headers too (see ``EdgeApp`` in ``web/app.py``).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The UI loads its one script and one stylesheet from /static and has no inline code,
# so nothing needs 'unsafe-inline'. Images are inline SVG; data: is for the favicon a
# browser may ask for. frame-ancestors 'none' (and X-Frame-Options for browsers that
# predate it) stops the UI from being framed for clickjacking.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(message.get("headers") or [])
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(headers: list[tuple[bytes, bytes]] | tuple[
        tuple[bytes, bytes], ...]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus each security header the response does not set itself."""
    present = {name.lower() for name, _ in headers if name.lower() in _NAMES}
    return [*headers, *(h for h in SECURITY_HEADERS if h[0] not in present)]


class HeaderLimits:
    """ASGI middleware: 431 for a request with too many or too large header fields."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_count: int):
        self.app, self.max_bytes, self.max_count = app, max_bytes, max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = header_problem(scope["headers"], self.max_bytes, self.max_count)
            if problem:
                await send_431(send, problem)
                return
        await self.app(scope, receive, send)


def header_problem(headers: list[tuple[bytes, bytes]], max_bytes: int,
                   max_count: int) -> str | None:
    """Why these headers are refused, or None. Bytes are names plus values."""
    if len(headers) > max_count:
        return f"more than {max_count} header fields"
    if sum(len(name) + len(value) for name, value in headers) > max_bytes:
        return f"header fields larger than {max_bytes} bytes"
    return None


async def send_431(send: Send, problem: str) -> None:
    body = json.dumps({"error": f"request header fields too large: {problem}"}).encode()
    await send({
        "type": "http.response.start",
        "status": 431,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # The client may still be sending: do not read on into a header flood.
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})
