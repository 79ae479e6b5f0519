"""How many outgoing requests to one origin may be in the connection pool at once.

httpcore's pool walks every request it holds against every connection it holds,
several times per request: 64 worker slots calling one host made each call cost a
scan of 64 queued requests by 32 connections (a third of an alert storm's outgoing
time, bench/profiles/FINDINGS.md). Requests past the gate's width wait here instead, in
a queue that costs nothing per request, and enter the pool as earlier ones finish:
the pool only ever holds requests it can serve at once.

The wait counts as the request's pool timeout (``httpx.PoolTimeout``), as a wait for a
pooled connection would; a request keeps its place until its response is closed (its
connection is busy until then).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import httpx

Send = Callable[[httpx.Request], Awaitable[httpx.Response]]


class OriginGate:
    def __init__(self, width: int):
        self._width = width
        self._gates: dict[tuple[str, str, int | None], anyio.Semaphore] = {}

    async def send(self, request: httpx.Request, send: Send) -> httpx.Response:
        """``send(request)`` once the request's origin has room; its place is given back
        when the response is closed, or at once if sending fails."""
        url = request.url
        origin = (url.scheme, url.host, url.port)
        gate = self._gates.get(origin)
        if gate is None:
            gate = self._gates[origin] = anyio.Semaphore(self._width)
        await _enter(gate, request)
        try:
            response = await send(request)
        except BaseException:
            gate.release()
            raise
        response.stream = _Releasing(response.stream, gate.release)
        return response


async def _enter(gate: anyio.Semaphore, request: httpx.Request) -> None:
    timeout = request.extensions.get("timeout", {}).get("pool")
    try:
        with anyio.fail_after(timeout):
            await gate.acquire()
    except TimeoutError:
        raise httpx.PoolTimeout("no connection became free in time", request=request) from None


class _Releasing(httpx.AsyncByteStream):
    """A response body that gives its gate's place back once, when closed."""

    def __init__(self, inner: httpx.AsyncByteStream | httpx.SyncByteStream,
                 release: Callable[[], None]):
        assert isinstance(inner, httpx.AsyncByteStream)
        self._inner, self._release = inner, release
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if not self._released:
                self._released = True
                self._release()
