"""What the serving protocol writes to the socket: an answer of known length leaves in
one write (head and body together), others as uvicorn writes them. Driven through the
real protocol class ``serve`` runs, with a transport that records its writes. And the
webhook answers' bodies, some of them encoded once and kept."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from incidentflow.web.protocol import HeadLimits, bounded_protocol
from incidentflow.web.webhooks import send_json

REQUEST = b"POST /webhooks/ep HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}"


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def served(app: Any, transport: RecordingTransport | None = None) -> RecordingTransport:
    """``REQUEST`` through the protocol to ``app``; the transport once it answered."""
    protocol_class = bounded_protocol(HeadLimits(8192, 100, 10.0))
    config = Config(app, http=protocol_class, lifespan="off", proxy_headers=False,
                    access_log=False)
    protocol = protocol_class(config, ServerState(), {})  # type: ignore[call-arg]
    transport = transport or RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(REQUEST)
    await asyncio.wait_for(asyncio.gather(*protocol.tasks, return_exceptions=True), 10)
    protocol.connection_lost(None)
    return transport


async def test_an_answer_of_known_length_leaves_in_one_write() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    transport = await served(app)
    [written] = transport.writes
    assert written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert written.endswith(b"content-length: 2\r\n\r\nok")


async def test_a_streamed_answer_sends_its_head_at_once() -> None:
    transport = RecordingTransport()
    heads: list[list[bytes]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        heads.append(list(transport.writes))  # before any body: the head is out
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    await served(app, transport)
    assert len(heads[0]) == 1 and b"transfer-encoding: chunked" in heads[0][0]
    assert transport.writes[1:] == [b"1\r\na\r\n", b"0\r\n\r\n"]


async def test_a_head_held_back_is_sent_before_the_connection_closes() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5")]})
        raise RuntimeError("the app failed after starting its answer")

    transport = await served(app)
    assert transport.closed
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")


async def test_answers_are_encoded_as_json_whatever_was_answered_before() -> None:
    sent: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message["body"])

    contents: list[dict[str, Any]] = [
        {"status": "accepted"}, {"status": "accepted"}, {"a": True}, {"a": 1}, {"a": 1.0},
        {"error": {"nested": "x"}}, *({"status": f"s{n}"} for n in range(100)),
        {"status": "accepted"},
    ]
    for content in contents:
        await send_json(send, 200, content, [], ())
    assert sent == [json.dumps(c, separators=(",", ":")).encode() for c in contents]
