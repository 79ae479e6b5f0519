"""A lean HTTP/1.1 keep-alive client for the open-loop generator.

The end-to-end figure is a latency of a few milliseconds, measured from the moment a
delivery is due; a general-purpose client (httpx) spends about a millisecond of the
generator's CPU per request building and parsing messages, and on a 2-core box that
time lands in the figure. This client writes pre-built request bytes and reads the
status line, the headers and a ``Content-Length`` body: what the product's webhook
answers are, and nothing more (no chunked bodies, no redirects, no TLS).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


class ProtocolError(Exception):
    pass


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def request_bytes(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"host: {host}", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connections:
    """Idle keep-alive connections to one server; a request takes one or opens one.

    With ``limit``, at most that many requests are out at once (the others wait for a
    connection): a storm of thousands of requests a second to a slower server would
    otherwise open a connection per waiting request, until the file descriptors run out.
    """

    def __init__(self, host: str, port: int, limit: int | None = None):
        self.host, self.port = host, port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._all: list[asyncio.StreamWriter] = []
        self._slots = asyncio.Semaphore(limit) if limit else None

    async def send(self, raw: bytes) -> Response:
        if self._slots is None:
            return await self._send(raw)
        async with self._slots:
            return await self._send(raw)

    async def _send(self, raw: bytes) -> Response:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._all.append(writer)
        writer.write(raw)
        response, keep = await _read_response(reader)
        if keep:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return response

    async def close(self) -> None:
        for writer in self._all:
            writer.close()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x status line: {status_line!r}")
    length, keep = 0, True
    for line in header_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
        elif name == "transfer-encoding":
            raise ProtocolError("chunked answers are not supported by this client")
    body = await reader.readexactly(length) if length else b""
    return Response(int(parts[1]), body), keep
