"""The hot path through the store's async face (``store.aio``), on memory, SQLite and
PostgreSQL: deliveries deduplicated, claims leased once, finishes recorded only under
the lease, outcomes reported to the meter, and a cancelled caller that still waits for
the answer of a call already made (nothing abandoned half-way)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from store_fixtures import NOW, make_canvas

from incidentflow.errors import StoreUnavailable
from incidentflow.events import Event
from incidentflow.store.port import (
    Admission,
    ClaimedExecution,
    DeliveryResult,
    Emitted,
    Ended,
    NewExecution,
)
from incidentflow.store.sql import SqlStore

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")
OUT = Event("test.out", {"ok": True}, "2026-03-01T12:00:01Z")
LATER = NOW + timedelta(seconds=61)


class Meter:
    """The outcomes reported, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def delivered(self, result: DeliveryResult) -> None:
        self.seen.append(("delivered", result.outcome))

    def rejected(self, code: str) -> None:
        self.seen.append(("rejected", code))

    def claimed(self, jobs: list[ClaimedExecution], now) -> None:
        self.seen.append(("claimed", len(jobs)))

    def ended(self, outcome: Ended, execution_id: str, recorded: bool) -> None:
        self.seen.append((outcome, recorded))

    def admitted(self, execution_id: str, admission: Admission) -> None:
        self.seen.append(("admitted", admission.admitted))


@pytest.fixture
def endpoint_id(store) -> str:
    store.save_canvas(make_canvas(), "", [], NOW)
    return store.endpoint_for_node("demo", "Hook", NOW).id


async def test_a_delivery_is_accepted_once_and_its_repeat_is_a_duplicate(store, endpoint_id):
    meter = Meter()
    store.meter_outcomes(meter)
    events = [(EVENT, [NewExecution("A", EVENT)])]
    first = await store.aio.accept_delivery(endpoint_id, "msg_1", events, NOW)
    again = await store.aio.accept_delivery(endpoint_id, "msg_1", events, NOW)
    assert first.outcome == "accepted" and len(first.run_ids) == 1
    assert (again.outcome, again.run_ids) == ("duplicate", [])
    run = store.get_run(first.run_ids[0])
    assert [(e.node, e.state) for e in run.executions] == [("A", "queued")]
    await store.aio.record_rejection(endpoint_id, "signature off", NOW, "bad_signature")
    assert sorted(d.outcome for d in store.recent_deliveries(endpoint_id)) == [
        "accepted", "rejected"]  # newest first; both at NOW
    assert meter.seen == [("delivered", "accepted"), ("delivered", "duplicate"),
                          ("rejected", "bad_signature")]


async def test_claim_leases_once_and_finish_records_the_outcome(store, endpoint_id):
    meter = Meter()
    store.meter_outcomes(meter)
    run_id = store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = await store.aio.claim("w1", NOW, 60, 10)
    assert (job.run_id, job.node, job.attempt) == (run_id, "A", 1)
    assert await store.aio.claim("w2", NOW, 60, 10) == []
    assert await store.aio.claim("w2", NOW, 60, 0) == []  # nothing asked, nothing leased
    emitted = [Emitted(OUT, "default", [NewExecution("B", OUT)])]
    assert await store.aio.finish(job.id, "w1", {"m": "x"}, emitted, NOW, job) is True
    [following] = await store.aio.claim("w1", NOW, 60, 10)
    assert (following.node, following.input, following.root) == ("B", OUT, EVENT)
    assert await store.aio.fail(following.id, "w1", "broken", None, None, NOW) is True
    run = store.get_run(run_id)
    assert run.state == "failed"
    assert [(e.node, e.state) for e in run.executions] == [("A", "succeeded"), ("B", "failed")]
    assert meter.seen == [("claimed", 1), ("claimed", 0), ("claimed", 0), ("succeeded", True),
                          ("claimed", 1), ("failed", True)]


async def test_an_outcome_after_the_lease_was_lost_writes_nothing(store, endpoint_id):
    meter = Meter()
    store.meter_outcomes(meter)
    run_id = store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = await store.aio.claim("w1", NOW, 60, 10)
    [taken] = await store.aio.claim("w2", LATER, 60, 10)  # w1's lease expired
    assert (taken.id, taken.attempt) == (job.id, 2)
    emitted = [Emitted(OUT, "default", [NewExecution("B", OUT)])]
    assert await store.aio.finish(job.id, "w1", None, emitted, LATER, job) is False
    assert await store.aio.retry_later(job.id, "w1", "slow", None, None, LATER, LATER) is False
    assert await store.aio.extend_leases("w1", [job.id], LATER, 60) == 0
    assert await store.aio.extend_leases("w2", [job.id], LATER, 60) == 1
    run = store.get_run(run_id)
    assert [(e.node, e.state) for e in run.executions] == [("A", "running")]
    assert ("succeeded", False) in meter.seen and ("retried", False) in meter.seen


async def test_a_cancelled_caller_waits_for_the_answer_of_its_call(store, endpoint_id):
    run_id = store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = await store.aio.claim("w1", NOW, 60, 10)
    finishing = asyncio.create_task(store.aio.finish(job.id, "w1", None, [], NOW, job))
    await asyncio.sleep(0)  # the call is made
    finishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await finishing
    # The finish was not abandoned: it is recorded, and a new claim finds nothing.
    assert store.get_run(run_id).state == "succeeded"
    assert await store.aio.claim("w2", LATER, 60, 10) == []


async def test_an_unreachable_database_is_store_unavailable_on_the_async_face(
        tmp_path, test_registry):
    store = SqlStore("sqlite:////nonexistent-directory-incidentflow/test.db", test_registry)
    try:
        with pytest.raises(StoreUnavailable) as raised:
            await store.aio.claim("w1", NOW, 30, 10)
        assert raised.value.__cause__ is not None  # the driver's error, for the log
        with pytest.raises(StoreUnavailable):
            await store.aio.get_canvas("demo")
    finally:
        store.close()
