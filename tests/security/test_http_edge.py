"""The HTTP edge of a real ``incidentflow serve`` on 127.0.0.1, spoken to over raw
sockets (the in-process TestClient never runs the HTTP parser):

- a header block over INCIDENTFLOW_MAX_HEADER_BYTES, or more fields than
  INCIDENTFLOW_MAX_HEADERS, is a 431 on every route (UI, API, webhooks, health), and a
  32 MiB header is refused while it streams, not after it is buffered;
- a head that does not arrive within INCIDENTFLOW_HEADER_TIMEOUT_SECONDS is a 408;
- an idle keep-alive connection is closed after INCIDENTFLOW_KEEPALIVE_TIMEOUT_SECONDS;
- serve warns at start about a short admin token, without printing it.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from helpers import ServerProcess, server_process, wait_until

from incidentflow.settings import Settings

MAX_HEADER_BYTES = 4096
MAX_HEADERS = 20
HEADER_TIMEOUT = 1.0
KEEPALIVE_TIMEOUT = 1.0
SHORT_ADMIN_TOKEN = "short-admin-token"
ROUTES = [("GET", "/signin"), ("GET", "/api/v1/canvases"), ("POST", "/webhooks/abc123"),
          ("GET", "/healthz"), ("GET", "/no/such/page")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "INCIDENTFLOW_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "INCIDENTFLOW_MAX_HEADERS": str(MAX_HEADERS),
        "INCIDENTFLOW_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "INCIDENTFLOW_KEEPALIVE_TIMEOUT_SECONDS": str(KEEPALIVE_TIMEOUT),
        "INCIDENTFLOW_ADMIN_TOKEN": SHORT_ADMIN_TOKEN,
    }
    work = tmp_path_factory.mktemp("edge")
    with server_process(work / "data", "--no-workers", env=env) as running:
        yield running


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    sent: int  # bytes of the request the client got to send


def connect(server: ServerProcess) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def exchange(server: ServerProcess, request: bytes, chunk: int = 64 * 1024) -> Answer:
    """Send ``request`` (stopping as soon as the server answers) and read the answer."""
    with connect(server) as sock:
        sent = 0
        while sent < len(request):
            if select.select([sock], [], [], 0)[0]:
                break  # answered already: the rest would never be read
            try:
                sock.sendall(request[sent:sent + chunk])
            except OSError:  # the server closed on us mid-request
                break
            sent += chunk
        return read_answer(sock, min(sent, len(request)))


def read_answer(sock: socket.socket, sent: int) -> Answer:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                break
            data += more
    except ConnectionResetError:
        pass  # the answer, if any, was read before the reset
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 "), f"no HTTP answer: {data[:200]!r}"
    status_line, *lines = head.split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return Answer(int(status_line.split()[1]), headers, sent)


def request(method: str, target: str, fields: list[tuple[str, str]]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in fields)]
    body = "{}" if method == "POST" else ""
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def assert_refused(answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    assert answer.headers["connection"] == "close"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_header_block_over_the_limit_is_431(server: ServerProcess, method: str,
                                              path: str) -> None:
    big = [("X-Big", "a" * (MAX_HEADER_BYTES + 1))]
    assert_refused(exchange(server, request(method, path, big)), 431)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_more_header_fields_than_allowed_is_431(server: ServerProcess, method: str,
                                                path: str) -> None:
    many = [(f"X-Field-{n}", "1") for n in range(MAX_HEADERS + 1)]
    assert_refused(exchange(server, request(method, path, many)), 431)


def test_a_request_target_over_the_limit_is_431(server: ServerProcess) -> None:
    answer = exchange(server, request("GET", "/healthz?q=" + "a" * 2 * MAX_HEADER_BYTES, []))
    assert_refused(answer, 431)


def test_a_32_mib_header_is_refused_while_it_streams(server: ServerProcess) -> None:
    flood = request("GET", "/healthz", [("X-Flood", "a" * (32 * 1024 * 1024))])
    answer = exchange(server, flood)
    assert_refused(answer, 431)
    assert answer.sent < 8 * 1024 * 1024, f"the server read {answer.sent} bytes first"
    assert exchange(server, request("GET", "/healthz", [])).status == 200


def test_heads_within_the_limits_are_served(server: ServerProcess) -> None:
    fields = [(f"X-Field-{n}", "1") for n in range(MAX_HEADERS - 3)]  # + host, etc.
    assert exchange(server, request("GET", "/healthz", fields)).status == 200
    near = [("X-Near", "a" * (MAX_HEADER_BYTES - 200))]
    answer = exchange(server, request("GET", "/healthz", near))
    assert answer.status == 200
    assert answer.headers["referrer-policy"] == "same-origin"


def test_a_head_that_does_not_arrive_in_time_is_408(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        answer = read_answer(sock, 0)
    assert_refused(answer, 408)
    assert HEADER_TIMEOUT - 0.1 <= time.monotonic() - started < HEADER_TIMEOUT + 5


def test_a_connection_that_says_nothing_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        answer = read_answer(sock, 0)
    assert answer.status == 408
    assert time.monotonic() - started < HEADER_TIMEOUT + 5


def test_an_idle_keep_alive_connection_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(request("GET", "/healthz", []))
        assert read_answer(sock, 0).status == 200
        sock.recv(65536) if select.select([sock], [], [], 0.2)[0] else None  # body, if apart
        started = time.monotonic()
        sock.settimeout(KEEPALIVE_TIMEOUT + 5)
        assert sock.recv(65536) == b""  # closed by the server, not by our timeout
    # well before uvicorn's default of 5 s: the setting is what closed it
    assert time.monotonic() - started < KEEPALIVE_TIMEOUT + 2.5


def test_serve_warns_about_a_short_admin_token_without_printing_it(
        server: ServerProcess) -> None:
    log = wait_until(lambda: server.log() if "admin token" in server.log() else None,
                     timeout=10, what="the start-up warning")
    assert "is 17 characters; use at least 32" in log
    assert SHORT_ADMIN_TOKEN not in log


@pytest.mark.parametrize(("name", "value", "says"), [
    ("INCIDENTFLOW_MAX_HEADER_BYTES", "100", "at least 1024"),
    ("INCIDENTFLOW_MAX_HEADERS", "0", "at least 10"),
    ("INCIDENTFLOW_HEADER_TIMEOUT_SECONDS", "0", "above 0"),
    ("INCIDENTFLOW_KEEPALIVE_TIMEOUT_SECONDS", "nan", "above 0"),
    ("INCIDENTFLOW_SIGNIN_ATTEMPTS", "many", "whole number"),
    ("INCIDENTFLOW_SIGNIN_WINDOW_SECONDS", "soon", "above 0"),
])
def test_edge_settings_out_of_range_are_refused(tmp_path, name: str, value: str,
                                                says: str) -> None:
    with pytest.raises(ValueError, match=says) as caught:
        Settings.from_env({name: value}, data_dir=tmp_path)
    assert name in str(caught.value)
