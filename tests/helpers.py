"""Helpers for tests that need real servers on 127.0.0.1 (import as ``helpers``).

- ``server_process(...)``: ``incidentflow serve`` as a child process on a free port.
- ``http_sink()``: a tiny HTTP server that records what it receives (for ``http`` nodes).
- ``wait_until(...)``: poll a condition with a deadline (never a bare sleep).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import sqlalchemy as sa

from incidentflow.integrations.incidentio.signature import sign

T = TypeVar("T")


# Ports for the servers tests start: below Linux's ephemeral range (32768-60999, where
# outgoing connections take theirs), a block of its own for each parallel test process
# (pytest-xdist worker gw0, gw1, ...), so no two of them pick the same free port at once.
FIRST_PORT = 20_000
PORTS_PER_WORKER = 1_500
_next_port = itertools.count(secrets.randbelow(PORTS_PER_WORKER))


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on, from this test process's block."""
    worker = _worker_number()
    if worker is None or FIRST_PORT + (worker + 1) * PORTS_PER_WORKER > 32_768:
        return _any_free_port()
    first = FIRST_PORT + worker * PORTS_PER_WORKER
    for _ in range(PORTS_PER_WORKER):
        port = first + next(_next_port) % PORTS_PER_WORKER
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return _any_free_port()


def _any_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _worker_number() -> int | None:
    """0 for pytest-xdist's gw0, ...; None when the tests run in one process."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else None


def wait_until(check: Callable[[], T | None], timeout: float = 15.0,
               interval: float = 0.05, what: str = "condition") -> T:
    """The first truthy result of ``check()``; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    @property
    def token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client_env(self) -> dict[str, str]:
        """Environment for client commands (``incidentflow apply`` ...)."""
        return {**self.env, "INCIDENTFLOW_URL": self.url, "INCIDENTFLOW_TOKEN": self.token}


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "incidentflow", *args]


@contextlib.contextmanager
def server_process(data_dir: Path, *extra_args: str, env: dict[str, str] | None = None,
                   timeout: float = 30.0) -> Iterator[ServerProcess]:
    """``incidentflow serve`` on a free port with ``data_dir``; stopped with SIGTERM."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, "INCIDENTFLOW_PUBLIC_URL": url, **(env or {})}
    full_env.pop("INCIDENTFLOW_TOKEN", None)
    log_path = data_dir.parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            cli_command("serve", "--port", str(port), "--data-dir", str(data_dir), *extra_args),
            env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = ServerProcess(url, data_dir, log_path, process, full_env)
    try:
        wait_until(lambda: _healthy(server), timeout, what=f"server at {url}")
        yield server
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM (graceful shutdown is part of what is tested), SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


CI_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str | None:
    """The PostgreSQL server for tests: INCIDENTFLOW_TEST_DATABASE_URL, or the CI one.
    Each parallel test process (pytest-xdist) gets a database of its own on that server
    (``test_gw0`` beside ``test``, created on first use)."""
    url = os.environ.get("INCIDENTFLOW_TEST_DATABASE_URL")
    if not url and os.environ.get("CI"):
        url = CI_POSTGRES
    if not url:
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if worker else url


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    """``url`` on database ``<its database>_<worker>``, created if missing. Schemas are
    already unique per test; a database per process also keeps LISTEN/NOTIFY (one
    channel per database) from waking one process's workers with another's work."""
    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(name)s", {"name": name}).first()
            if not exists:  # another process may create it meanwhile: that is fine
                with contextlib.suppress(sa.exc.ProgrammingError, sa.exc.IntegrityError):
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _healthy(server: ServerProcess) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"server exited with {server.process.returncode}:\n{server.log()}")
    try:
        return httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Sink:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@contextlib.contextmanager
def http_sink() -> Iterator[Sink]:
    """An HTTP server on 127.0.0.1 that records every request and answers ``sink.status``
    with ``{"ok": true}``."""
    sink = Sink(url="")

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            sink.requests.append({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            })
            answer = json.dumps({"ok": True}).encode()
            self.send_response(sink.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    class Server(ThreadingHTTPServer):
        # The default listen backlog (5) refuses connections when several workers, 64
        # executions each, call at once; a real upstream's backlog is far larger.
        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


def api_operations() -> list[tuple[str, str]]:
    """(method, concrete path) for every /api/v1 operation the OpenAPI document lists
    (``tests/web/test_auth.py`` checks that the document lists every route)."""
    import re

    from incidentflow.web.openapi import API_PREFIX, openapi_document

    operations = []
    for template, item in openapi_document()["paths"].items():
        if template.startswith(API_PREFIX):
            path = re.sub(r"\{[^}]+\}", "x", template)
            operations += [(method.upper(), path) for method in item]
    return sorted(operations)


# Tests of one backend's own behaviour (LISTEN/NOTIFY, SQLite's deferred foreign keys):
# pin the ``database_url`` fixture to that backend, so CI never shows a half that always
# skips. ``postgres_only`` still skips on a laptop without PostgreSQL, with the message.
def _pinned(backend: str, *marks: Any) -> Any:
    import pytest

    return pytest.mark.parametrize(
        "database_url", [pytest.param(backend, marks=marks)], indirect=True
    )


def postgres_only() -> Any:
    import pytest

    return _pinned("postgres", pytest.mark.postgres)


def sqlite_only() -> Any:
    return _pinned("sqlite")


def signed_headers(secret: str, body: bytes, msg_id: str | None = None,
                   timestamp: int | str | None = None) -> dict[str, str]:
    """The headers of a Standard Webhooks delivery of ``body`` (the one signer of the
    suite): a fresh ``msg_…`` id and the current time unless given."""
    import secrets as random_ids

    msg_id = msg_id or "msg_" + random_ids.token_hex(8)
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def fresh_schema(base: str) -> Iterator[str]:
    """A fresh PostgreSQL schema on ``base`` (selected through ``search_path`` in the URL
    yielded), dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(base, poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


# A run stopped by a filter that reads a canvas secret: failed while the secret is
# missing, succeeded once it is set (run recovery's API and pages replay it).
GATED_CANVAS = """\
name: gated
nodes:
  - {name: Start, type: start}
  - name: Gate
    type: filter
    configuration: {expression: "secrets.GATE == 'open-sesame'"}
  - {name: Done, type: noop}
edges:
  - {from: Start, to: Gate}
  - {from: Gate, to: Done}
"""
