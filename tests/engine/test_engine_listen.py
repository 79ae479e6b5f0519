"""PostgreSQL LISTEN/NOTIFY: work committed by another process wakes a worker at once."""

from __future__ import annotations

import asyncio
import threading

import pytest
from engine_fixtures import NOW, chain, registry
from helpers import postgres_only

from incidentflow.canvas import Node
from incidentflow.engine.router import first_executions
from incidentflow.engine.wakeup import Wakeup
from incidentflow.events import Event
from incidentflow.store.sql import SqlStore


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: what is tested here is PostgreSQL's (no SQLite half to skip)."""
    return postgres_url


@pytest.fixture
def store(sql_store):
    """About other processes sharing the database: the SQL store."""
    return sql_store


@pytest.fixture
def other_process_store(store, database_url):
    """A second store on the same database: what another host's server would write with."""
    other = SqlStore(database_url, registry())
    yield other
    other.close()


def test_sqlite_has_no_listener_and_relies_on_polling(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}", registry())
    assert store.listen_for_work(lambda: None) is None
    store.close()


@postgres_only()
def test_commit_that_enqueues_work_notifies_listeners(store, other_process_store):
    woke = threading.Event()
    listener = store.listen_for_work(woke.set)
    try:
        assert listener.wait_listening(10)
        canvas = chain("c", Node("One", "t.echo"))
        other_process_store.save_canvas(canvas, "", [], NOW)
        woke.clear()  # the listener pokes once when it starts listening
        event = Event("start.manual", {})
        other_process_store.start_run(
            "c", "Start", event, first_executions(canvas, "Start", event), NOW
        )
        assert woke.wait(10)
    finally:
        listener.stop()


@postgres_only()
async def test_worker_wakes_on_another_process_commit_without_polling(
    store, other_process_store, workers
):
    wakeup = Wakeup(poll_seconds=3600)  # only the notification can wake it in time
    worker = workers.make(wakeup=wakeup)
    stop = asyncio.Event()
    loop_task = asyncio.create_task(worker.run(stop))
    canvas = chain("c", Node("One", "t.echo", {"message": "a"}))
    other_process_store.save_canvas(canvas, "", [], NOW)
    await asyncio.sleep(0.5)  # the worker is idle, waiting
    event = Event("start.manual", {})
    run_id = await asyncio.to_thread(
        other_process_store.start_run, "c", "Start", event,
        first_executions(canvas, "Start", event), NOW,
    )

    async def finished() -> None:
        while store.get_run(run_id).state == "running":
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(finished(), 20)
    finally:
        stop.set()
        await asyncio.wait_for(loop_task, 10)
    assert store.get_run(run_id).state == "succeeded"
