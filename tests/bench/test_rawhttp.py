"""bench.rawhttp, the open-loop generator's client, against a real socket server."""

from __future__ import annotations

import asyncio

import pytest

from bench import rawhttp


async def _serve(answers: list[bytes], seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            seen.append(head + await reader.readexactly(length))
            writer.write(answers.pop(0))
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_keep_alive_answers_and_a_closing_one():
    seen: list[bytes] = []
    answers = [
        b"HTTP/1.1 200 OK\r\ncontent-length: 21\r\n\r\n{\"status\":\"accepted\"}",
        b"HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ]
    server = await _serve(answers, seen)
    port = server.sockets[0].getsockname()[1]
    connections = rawhttp.Connections("127.0.0.1", port)
    raw = rawhttp.request_bytes(f"127.0.0.1:{port}", "/webhooks/x",
                                {"webhook-id": "msg_1"}, b'{"a": 1}')
    first = await connections.send(raw)
    second = await connections.send(raw)  # the same connection, kept alive
    assert (first.status, first.body) == (200, b'{"status":"accepted"}')
    assert (second.status, second.body) == (409, b"")
    assert len(seen) == 2 and seen[0].startswith(b"POST /webhooks/x HTTP/1.1\r\n")
    assert b"content-length: 8\r\n" in seen[0] and seen[0].endswith(b'{"a": 1}')
    await connections.close()
    server.close()


async def test_chunked_answers_are_refused_not_misread():
    server = await _serve([b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"], [])
    port = server.sockets[0].getsockname()[1]
    connections = rawhttp.Connections("127.0.0.1", port)
    with pytest.raises(rawhttp.ProtocolError, match="chunked"):
        await connections.send(rawhttp.request_bytes("h", "/", {}, b"{}"))
    await connections.close()
    server.close()
