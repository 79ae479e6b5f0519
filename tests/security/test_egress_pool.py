"""The shared outgoing client's pool (issue 14, the alert storm): requests to one origin
gated ahead of httpcore's pool, connections kept alive, the cheap checks it asks."""

from __future__ import annotations

import asyncio
import importlib
import socket
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpcore
import httpx
import pytest

from incidentflow.egress import EgressPolicy
from incidentflow.egress_gate import OriginGate
from incidentflow.egress_transport import (
    COALESCE_BYTES,
    PER_ORIGIN,
    _PooledStream,
    _readable,
    _remember_missing,
    egress_client,
)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition`` holds; fail after a generous deadline."""
    deadline = asyncio.get_running_loop().time() + 10
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.001)


class Held(httpx.AsyncByteStream):
    """A body whose close the test observes."""

    def __init__(self, closed: list[int], number: int):
        self._closed, self._number = closed, number

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{}"

    async def aclose(self) -> None:
        self._closed.append(self._number)


async def test_past_the_width_requests_wait_until_an_earlier_response_is_closed() -> None:
    gate, entered, closed = OriginGate(2), [], []

    async def send(request: httpx.Request) -> httpx.Response:
        entered.append(request)
        return httpx.Response(200, stream=Held(closed, len(entered)))

    requests = [httpx.Request("POST", f"http://127.0.0.1:9/{n}") for n in range(5)]
    calls = [asyncio.create_task(gate.send(r, send)) for r in requests]
    await until(lambda: sum(c.done() for c in calls) == 2, "two responses")
    for _ in range(20):  # the others stay out, however long the loop runs
        await asyncio.sleep(0)
    assert len(entered) == 2
    first = next(c for c in calls if c.done()).result()
    await first.aclose()
    await first.aclose()  # closing twice gives one place back, not two
    await until(lambda: len(entered) == 3, "a third request let in")
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(entered) == 3 and closed == [1]
    for call in calls:
        call.cancel()


async def test_other_origins_do_not_wait_for_a_busy_one() -> None:
    gate = OriginGate(1)

    async def send(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Held([], 0))

    await gate.send(httpx.Request("GET", "http://127.0.0.1:9/a"), send)  # never closed
    other = await asyncio.wait_for(
        gate.send(httpx.Request("GET", "http://127.0.0.1:10/a"), send), 10)
    assert other.status_code == 200


async def test_a_full_origin_answers_a_pool_timeout_in_the_request_s_own_time() -> None:
    gate = OriginGate(1)

    async def send(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Held([], 0))

    await gate.send(httpx.Request("GET", "http://127.0.0.1:9/a"), send)  # never closed
    waiting = httpx.Request("GET", "http://127.0.0.1:9/b",
                            extensions={"timeout": {"pool": 0.01}})
    with pytest.raises(httpx.PoolTimeout):
        await gate.send(waiting, send)


async def test_a_request_that_fails_gives_its_place_back() -> None:
    gate = OriginGate(1)

    async def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def send(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    with pytest.raises(httpx.ConnectError):
        await gate.send(httpx.Request("GET", "http://127.0.0.1:9/a"), refused)
    answer = await asyncio.wait_for(gate.send(httpx.Request("GET", "http://127.0.0.1:9/b"),
                                              send), 10)
    assert answer.status_code == 200


async def test_many_calls_to_one_host_share_a_few_connections_kept_alive() -> None:
    """More concurrent calls than the gate's width open at most that many connections,
    and a second wave reuses them (httpcore closed idle ones past its keep-alive
    count, which counted busy connections too)."""
    connections, in_flight, most = [0], [0], [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        while await reader.readuntil(b"\r\n\r\n"):
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            await asyncio.sleep(0)  # let the others arrive
            in_flight[0] -= 1
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            await writer.drain()

    async def quietly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(quietly, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = EgressPolicy.from_settings()
    try:
        async with egress_client(10.0, policy=lambda: policy) as client:
            for _ in range(2):
                answers = await asyncio.gather(*(
                    client.get(f"http://127.0.0.1:{port}/{n}") for n in range(3 * PER_ORIGIN)))
                assert all(a.status_code == 200 for a in answers)
    finally:
        server.close()
    assert 1 <= connections[0] <= PER_ORIGIN
    assert most[0] <= PER_ORIGIN


def test_a_socket_is_readable_once_its_peer_closed_or_it_is_closed() -> None:
    ours, theirs = socket.socketpair()
    try:
        assert not _readable(ours)
        theirs.close()
        assert _readable(ours)
    finally:
        ours.close()
    assert _readable(ours)


def test_a_missing_module_is_remembered_as_missing_and_a_present_one_is_left() -> None:
    name = "incidentflow_no_such_module_for_the_test"
    try:
        _remember_missing(name)
        assert name in sys.modules and sys.modules[name] is None
        with pytest.raises(ImportError):
            importlib.import_module(name)
    finally:
        sys.modules.pop(name, None)
    _remember_missing("json")
    assert sys.modules["json"] is not None


class Recorded(httpcore.AsyncNetworkStream):
    """A connection that records what was sent, and in how many sends."""

    def __init__(self) -> None:
        self.sends: list[bytes] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b"HTTP/1.1 200 OK\r\n"

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.sends.append(buffer)

    async def aclose(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return None


async def test_a_request_goes_out_in_one_send_when_its_answer_is_read() -> None:
    inner = Recorded()
    stream = _PooledStream(inner)
    await stream.write(b"POST / HTTP/1.1\r\n\r\n")
    await stream.write(b'{"a": 1}')
    await stream.write(b"")
    assert inner.sends == []
    await stream.read(100)
    assert inner.sends == [b'POST / HTTP/1.1\r\n\r\n{"a": 1}']


async def test_a_large_body_goes_out_as_it_comes_and_a_closed_one_not_at_all() -> None:
    inner = Recorded()
    stream = _PooledStream(inner)
    await stream.write(b"x" * COALESCE_BYTES)
    assert inner.sends == [b"x" * COALESCE_BYTES]
    await stream.write(b"given up")
    await stream.aclose()
    await stream.read(100)
    assert inner.sends == [b"x" * COALESCE_BYTES]
