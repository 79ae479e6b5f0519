"""The webhook route at the very edge of the app: ``POST /webhooks/{endpoint_id}``
answered without Starlette's router and middleware stack.

Under an alert storm the stack between uvicorn and the handler (security headers,
header limits, error middleware, the metrics timer, exception middleware, router,
route: a coroutine frame and often a closure each, per request) cost about as much
of the event loop as the receiver itself (bench/profiles/issue14-before-*.txt). This
one class does what those layers do for this route, in the same order and with the
same answers: header limits (a refused head goes down the full stack, which answers
431), the handler (``web/webhooks.py``), the security headers, the metrics timer, a
generic 500 for a bug. Every other request goes to the app unchanged.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from incidentflow import metrics
from incidentflow.receiver import Receiver
from incidentflow.web.headers import SECURITY_HEADERS, header_problem
from incidentflow.web.webhooks import deliver, send_answer

PREFIX = "/webhooks/"
_INTERNAL_ERROR = b"Internal Server Error"  # what Starlette's error middleware answers
_ERROR_HEADERS = [(b"content-length", str(len(_INTERNAL_ERROR)).encode()),
                  (b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS]


class WebhookEdge:
    def __init__(self, app: ASGIApp, receiver: Callable[[], Receiver], max_header_bytes: int,
                 max_headers: int):
        """``app``: the full stack, for every other request; ``receiver()``: the app's
        receiver (looked up per request: tests may replace it)."""
        self.app, self.receiver = app, receiver
        self.max_header_bytes, self.max_headers = max_header_bytes, max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint_id = self._endpoint_id(scope)
        if endpoint_id is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            status = await deliver(self.receiver(), endpoint_id, scope, receive, send,
                                   SECURITY_HEADERS)
        except Exception:
            # A bug (the receiver answers what it expects): the generic 500, unless the
            # answer had begun (the server refuses a second start; nothing to add then).
            with contextlib.suppress(Exception):
                await send_answer(send, 500, _INTERNAL_ERROR, _ERROR_HEADERS)
            raise  # the server logs it, as it did behind Starlette's error middleware
        metrics.webhook_answered(time.perf_counter() - started, status)

    def _endpoint_id(self, scope: Scope) -> str | None:
        """The endpoint id of a request this edge answers itself, else None."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if not path.startswith(PREFIX):
            return None
        endpoint_id = path[len(PREFIX):]
        if not endpoint_id or "/" in endpoint_id:  # not the route's one path segment
            return None
        if header_problem(scope["headers"], self.max_header_bytes, self.max_headers):
            return None  # the full stack answers 431
        return endpoint_id
