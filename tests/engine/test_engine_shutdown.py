"""Graceful shutdown of a real `incidentflow worker` process on SIGTERM: the execution
in flight finishes and is recorded once; no lease is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from engine_fixtures import NOW

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.engine.router import first_executions
from incidentflow.events import Event
from incidentflow.registry import default_registry
from incidentflow.store.sql import SqlStore


class SlowService:
    """An HTTP endpoint that answers only when told to."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.respond = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                service.arrived.set()
                service.respond.wait(30)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slow"


@pytest.fixture
def slow_service() -> Iterator[SlowService]:
    service = SlowService()
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    yield service
    service.respond.set()
    service.server.shutdown()


@pytest.fixture
def real_store(database_url):
    store = SqlStore(database_url, default_registry())
    store.migrate()
    yield store
    store.close()


def test_sigterm_lets_the_running_execution_finish(real_store, database_url, tmp_path,
                                                    slow_service):
    canvas = Canvas(
        "slow", (Node("Start", "start"), Node("Call", "http", {"url": slow_service.url})),
        (Edge("Start", "Call"),),
    )
    real_store.save_canvas(canvas, "", [], NOW)
    event = Event("start.manual", {})
    run_id = real_store.start_run(
        "slow", "Start", event, first_executions(canvas, "Start", event), NOW
    )
    env = {**os.environ, "INCIDENTFLOW_DATA_DIR": str(tmp_path / "data"),
           "INCIDENTFLOW_DATABASE_URL": database_url}
    worker = subprocess.Popen([sys.executable, "-m", "incidentflow", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert slow_service.arrived.wait(60), "the worker never called the service"
        worker.send_signal(signal.SIGTERM)
        slow_service.respond.set()
        _, stderr = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr.decode(errors="replace")[-2000:]
    [execution] = real_store.get_run(run_id).executions
    assert (execution.state, execution.attempts) == ("succeeded", 1)
    assert real_store.get_run(run_id).state == "succeeded"
    assert real_store.queue_depth(NOW) == 0
