"""Workers on the real catalogue and the real clock, run in the background of a test."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from incidentflow.canvas import Canvas, parse_canvas
from incidentflow.crypto import SecretBox
from incidentflow.engine.wakeup import Wakeup
from incidentflow.engine.worker import Worker
from incidentflow.events import utcnow
from incidentflow.registry import default_registry
from incidentflow.settings import Settings

BOX = SecretBox("test key")


def settings(tmp_path: Path, concurrency: int = 4) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url="unused",
        public_url="http://test",  # type: ignore[arg-type]
        secret_key="k", admin_token="t", worker_concurrency=concurrency,
    )


def canvas(source: dict[str, Any]) -> Canvas:
    return parse_canvas(source, default_registry())


def make_worker(store: Any, tmp_path: Path, *, concurrency: int = 4,
                clock: Callable[[], datetime] = utcnow, worker_id: str = "w1",
                wakeup: Wakeup | None = None) -> Worker:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    return Worker(store, default_registry(), BOX, http,
                  dataclasses.replace(settings(tmp_path, concurrency)), wakeup,
                  worker_id=worker_id, clock=clock)


@contextlib.asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[Worker]:
    """``worker.run`` in a task until the block ends (then stopped and awaited)."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def until(check: Callable[[], Any], timeout: float = 6.0, what: str = "it") -> Any:
    """Poll ``check`` (a store read, run in a thread) until truthy, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def execution(store: Any, run_id: str, node: str) -> Any:
    """The run's execution of ``node`` (None before it is enqueued)."""
    found = [e for e in store.get_run(run_id).executions if e.node == node]
    return found[0] if found else None


def done(store: Any, run_id: str, node: str) -> Any:
    """The run's execution of ``node`` once it succeeded, else None (for ``until``)."""
    found = execution(store, run_id, node)
    return found if found is not None and found.state == "succeeded" else None
