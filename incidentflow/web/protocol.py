"""The HTTP/1.1 server protocol ``incidentflow serve`` runs, with limits on the head.

uvicorn's httptools protocol (the fast one, which webhook intake relies on) puts no
limit on the request line or the header block, and no deadline on receiving them: a
client can send 32 MiB of headers, or one byte every few seconds forever. h11 has a
size limit but is several times slower, so instead this subclass of the httptools
protocol adds, while the bytes arrive:

- a size limit on the head (``max_header_bytes``: the request target plus header names
  and values) and on the number of header fields (``max_headers``): answered 431 and
  the connection closed, before the application sees the request. Raw bytes still
  in the head are bounded as well, so one endless header is refused while it streams;
- a deadline on the head (``header_timeout``): from the first byte of a request (or
  the connection's opening) to the end of its headers; answered 408 and closed.

Idle keep-alive connections are closed by uvicorn's own ``timeout_keep_alive``.
``web/headers.py`` enforces the same size limits again inside the app (any server).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from incidentflow.web.headers import SECURITY_HEADERS

if TYPE_CHECKING:
    from incidentflow.settings import Settings


@dataclass(frozen=True)
class HeadLimits:
    max_header_bytes: int
    max_headers: int
    header_timeout: float

    @property
    def max_raw_bytes(self) -> int:
        """Raw bytes of an unfinished head: the counted bytes plus room for the request
        line, separators and line ends of every allowed field."""
        return 2 * self.max_header_bytes + 8 * self.max_headers


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` that apply the edge
    settings: the bounded protocol and the keep-alive timeout."""
    limits = HeadLimits(settings.max_header_bytes, settings.max_headers,
                        settings.header_timeout_seconds)
    return {
        "http": bounded_protocol(limits),
        "timeout_keep_alive": settings.keepalive_timeout_seconds,
        # Only used if someone swaps in h11; ours ignores it.
        "h11_max_incomplete_event_size": limits.max_raw_bytes,
    }


def bounded_protocol(limits: HeadLimits) -> type[asyncio.Protocol]:
    """The httptools protocol class bound to ``limits`` (uvicorn takes a class)."""
    return type("BoundedHttpToolsProtocol", (BoundedHttpTools,), {"limits": limits})


class HeadWithBody:
    """A response's transport that sends the head of a response of known length
    together with its body: one ``send`` (one packet, one wakeup of the client) instead
    of two, since uvicorn writes the head as soon as the app starts its answer. Under
    an alert storm the second ``send`` of every small answer was a visible share of
    the server's CPU. Anything else (a chunked or empty answer, 100 Continue) is
    written as before; closing sends a held head first."""

    __slots__ = ("_transport", "_cycle", "_started", "_head")

    def __init__(self, transport: asyncio.Transport, cycle: Any):
        self._transport, self._cycle = transport, cycle
        self._started = False
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
            return
        cycle = self._cycle
        if not self._started and cycle.response_started:  # this write is the head
            self._started = True
            if (cycle.chunked_encoding is False and cycle.expected_content_length > 0
                    and cycle.scope["method"] != "HEAD"):
                self._head = data
                return
        self._transport.write(data)

    def close(self) -> None:
        head, self._head = self._head, None
        if head is not None:  # the app failed between head and body: as before
            self._transport.write(head)
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttpTools(HttpToolsProtocol):
    limits: ClassVar[HeadLimits]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head()
        # A client that connects and sends nothing gets the same deadline as one that
        # sends slowly (uvicorn arms its keep-alive timer only after a response).
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered already; the connection is closing
        super().data_received(data)
        if not self._in_head or self._refused:
            return
        # Still inside a head after this chunk: bound what is buffered and time it.
        self._raw_head_bytes += len(data)
        if self._raw_head_bytes > self.limits.max_raw_bytes:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                         f"header fields larger than {self.limits.max_header_bytes} bytes")
        elif self._head_timer is None:
            self._arm_head_timer()

    # -- parser callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        if self._refused:
            return
        problem = self._head_problem()
        if problem:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, problem)
            return
        before = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not before:  # a new request (not an upgrade)
            cycle.transport = HeadWithBody(cycle.transport, cycle)  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    # -- the head ------------------------------------------------------------------------

    def _start_head(self) -> None:
        self._in_head = True
        self._raw_head_bytes = 0

    def _head_problem(self) -> str | None:
        """Counted once the head is parsed (cheaper than per header callback); while it
        arrives, ``max_raw_bytes`` bounds what is buffered."""
        limits = self.limits
        if len(self.headers) > limits.max_headers:
            return f"more than {limits.max_headers} header fields"
        size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
        if size > limits.max_header_bytes:
            return f"header fields larger than {limits.max_header_bytes} bytes"
        return None

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout,
                                                self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self._refused and not self.transport.is_closing():
            self._refuse(HTTPStatus.REQUEST_TIMEOUT,
                         f"headers not received within {self.limits.header_timeout:g} s")

    def _refuse(self, status: HTTPStatus, problem: str) -> None:
        """Answer ``status`` and close: the rest of this connection is never read."""
        self._refused = True
        self._cancel_head_timer()
        body = json.dumps({"error": f"{status.phrase.lower()}: {problem}"}).encode()
        head = [f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()]
        fields = [*self.server_state.default_headers, *SECURITY_HEADERS,
                  (b"content-type", b"application/json"),
                  (b"content-length", str(len(body)).encode()),
                  (b"connection", b"close")]
        head.extend(name + b": " + value + b"\r\n" for name, value in fields)
        self.transport.write(b"".join(head) + b"\r\n" + body)
        self.transport.close()
