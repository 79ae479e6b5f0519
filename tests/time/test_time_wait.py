"""The wait step on a real store (SQLite and PostgreSQL): on time, durable, and holding
no worker slot while it waits."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from helpers import postgres_only
from time_fixtures import canvas, done, execution, make_worker, running, until

from incidentflow.engine.router import first_executions
from incidentflow.engine.wakeup import Wakeup
from incidentflow.events import Event, utcnow
from incidentflow.store.sql import SqlStore

WAIT = 2.0


def wait_then(name: str, configuration: dict | None = None) -> dict:
    return {
        "name": name,
        "nodes": [
            {"name": "Start", "type": "start"},
            {"name": "Pause", "type": "wait", "configuration": configuration or {"seconds": WAIT}},
            {"name": "Then", "type": "noop"},
        ],
        "edges": [{"from": "Start", "to": "Pause"}, {"from": "Pause", "to": "Then"}],
    }


def straight(name: str) -> dict:
    return {"name": name, "nodes": [{"name": "Start", "type": "start"},
                                    {"name": "Then", "type": "noop"}],
            "edges": [{"from": "Start", "to": "Then"}]}


def start(store, source: dict, data: dict | None = None) -> str:
    parsed = canvas(source)
    store.save_canvas(parsed, "", [], utcnow())
    event = Event("start.manual", data or {})
    return store.start_run(parsed.name, "Start", event,
                           first_executions(parsed, "Start", event), utcnow())


async def test_a_wait_fires_after_its_time_and_within_a_second_of_it(store, tmp_path):
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, wait_then("w"))
        paused = await until(lambda: done(store, run_id, "Pause"), what="the wait step")
        waiting = execution(store, run_id, "Then")
        # Shown as waiting: queued, with the time it goes on.
        assert waiting.state == "queued" and waiting.attempts == 0
        due = waiting.next_attempt_at
        assert due is not None
        assert abs((due - paused.started_at).total_seconds() - WAIT) < 0.5
        then = await until(lambda: done(store, run_id, "Then"), what="the step after it")
    assert then.started_at >= due
    assert (then.started_at - due).total_seconds() <= 1.0
    assert then.input.type == "start.manual"  # the input passed on unchanged
    assert store.get_run(run_id).state == "succeeded"


async def test_a_waiting_execution_holds_no_worker_slot(store, tmp_path):
    async with running(make_worker(store, tmp_path, concurrency=1)):
        waiting_run = start(store, wait_then("slow"))
        await until(lambda: done(store, waiting_run, "Pause"), what="the wait step")
        started = utcnow()
        other_run = start(store, straight("other"))
        other = await until(lambda: done(store, other_run, "Then"), what="the other canvas")
        assert (other.finished_at - started).total_seconds() < 1.0
        assert execution(store, waiting_run, "Then").state == "queued"  # still waiting
        await until(lambda: done(store, waiting_run, "Then"), what="the wait to end")


async def test_a_wait_survives_its_worker_stopping(store, tmp_path):
    async with running(make_worker(store, tmp_path, worker_id="first")):
        run_id = start(store, wait_then("w"))
        await until(lambda: done(store, run_id, "Pause"), what="the wait step")
    due = execution(store, run_id, "Then").next_attempt_at
    # A new worker (a restart): it learns when the waiting work is due when it starts.
    async with running(make_worker(store, tmp_path, worker_id="second", wakeup=Wakeup())):
        then = await until(lambda: done(store, run_id, "Then"), what="the step after it")
    assert due <= then.started_at <= due + timedelta(seconds=1)


@postgres_only()  # LISTEN/NOTIFY across processes is PostgreSQL's
async def test_a_wait_enqueued_by_one_worker_fires_in_another(store, database_url, tmp_path):
    other_store = SqlStore(database_url, store._roles)  # another process's store
    try:
        # The other worker is idle and polls every 5 s: only the NOTIFY of the wait's
        # time can make it fire the wait within a second.
        async with running(make_worker(other_store, tmp_path, worker_id="other",
                                       wakeup=Wakeup())):
            async with running(make_worker(store, tmp_path, worker_id="first")):
                run_id = start(store, wait_then("w"))
                await until(lambda: done(store, run_id, "Pause"), what="the wait step")
            due = execution(store, run_id, "Then").next_attempt_at
            then = await until(lambda: done(store, run_id, "Then"), what="the other worker")
        assert due <= then.started_at <= due + timedelta(seconds=1)
    finally:
        other_store.close()


@pytest.mark.parametrize(("configuration", "words"), [
    ({"seconds": "{{ previous.data.delay }}"}, "seconds must be a number"),
    ({"until": "{{ previous.data.delay }}"}, "until must be an ISO 8601 time"),
])
async def test_a_bad_rendered_value_fails_the_wait_for_good(store, tmp_path, configuration,
                                                            words):
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, wait_then("w", configuration), {"delay": "soon"})
        failed = await until(
            lambda: (e := execution(store, run_id, "Pause")) and e.state == "failed" and e,
            what="the wait to fail")
    assert words in failed.error and "'soon'" in failed.error
    assert failed.attempts == 1 and failed.next_attempt_at is None
    assert execution(store, run_id, "Then") is None
    assert store.get_run(run_id).state == "failed"


async def test_a_wait_until_a_time_uses_the_rendered_time(store, tmp_path):
    at = (utcnow() + timedelta(seconds=1)).isoformat()
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, wait_then("w", {"until": "{{ previous.data.at }}"}), {"at": at})
        await until(lambda: done(store, run_id, "Pause"), what="the wait step")
        assert execution(store, run_id, "Then").next_attempt_at.isoformat() == at
        then = await until(lambda: done(store, run_id, "Then"), what="the step after it")
    assert then.started_at.isoformat() >= at


class SlowClaims:
    """The store, with every claim taking ``delay`` seconds after it read the time: the
    wait below comes due while a claim that missed it is still running."""

    def __init__(self, store, delay: float):
        self._store, self._delay = store, delay

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    @property
    def aio(self):
        return _SlowAsyncClaims(self._store.aio, self._delay)


class _SlowAsyncClaims:
    """The store's async face, its claims answered ``delay`` seconds late."""

    def __init__(self, aio, delay: float):
        self._aio, self._delay = aio, delay

    def __getattr__(self, name: str):
        return getattr(self._aio, name)

    async def claim(self, worker_id, now, lease_seconds, limit):
        claimed = await self._aio.claim(worker_id, now, lease_seconds, limit)
        await asyncio.sleep(self._delay)
        return claimed


async def test_work_that_comes_due_during_a_claim_is_claimed_right_after_it(store, tmp_path):
    # The claim that starts just before the due time finds nothing and ends after it;
    # the worker must claim again at once, not sleep out the 1 s poll.
    slow = SlowClaims(store, delay=0.3)
    async with running(make_worker(slow, tmp_path)):
        run_id = start(store, wait_then("during", {"seconds": 0.1}))
        then = await until(lambda: done(store, run_id, "Then"), what="the step after it")
    paused = done(store, run_id, "Pause")
    # due 0.1 s after Pause, plus the 0.3 s claim that missed it; a poll would add 1 s
    assert (then.started_at - paused.finished_at).total_seconds() < 0.9
