"""Concurrency keys: one execution per key at a time, in enqueue order; lease renewal."""

from __future__ import annotations

from datetime import timedelta

from store_fixtures import NOW, make_canvas

from incidentflow.events import Event
from incidentflow.store.port import NewExecution

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")


def enqueue(store, keys: list[str | None]) -> list[str]:
    """One run per key (in this order); returns the run ids."""
    store.save_canvas(make_canvas(), "", [], NOW)
    return [
        store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT, key)], NOW)
        for key in keys
    ]


def claimed_runs(store, worker: str, limit: int = 10) -> list[str]:
    return [job.run_id for job in store.claim(worker, NOW, 60, limit)]


def test_same_key_runs_one_at_a_time_in_enqueue_order(store):
    first, second, third = enqueue(store, ["k", "k", "k"])
    assert claimed_runs(store, "w1") == [first]
    assert claimed_runs(store, "w2") == []  # the earlier one is still running
    [job] = [e for e in store.get_run(first).executions]
    assert store.finish(job.id, "w1", None, [], NOW)
    assert claimed_runs(store, "w2") == [second]
    [job] = store.get_run(second).executions
    assert store.finish(job.id, "w2", None, [], NOW)
    assert claimed_runs(store, "w1") == [third]


def test_other_keys_and_unkeyed_work_run_in_parallel(store):
    runs = enqueue(store, ["k", "k", "other", None, None])
    claimed = claimed_runs(store, "w1")
    assert claimed == [runs[0], runs[2], runs[3], runs[4]]


def test_a_retry_waiting_keeps_later_executions_of_its_key_waiting(store):
    first, second = enqueue(store, ["k", "k"])
    [job] = store.claim("w1", NOW, 60, 1)
    later = NOW + timedelta(seconds=30)
    assert store.retry_later(job.id, "w1", "503", None, None, later, NOW)
    assert claimed_runs(store, "w2") == []  # the second must not overtake the first
    assert [j.run_id for j in store.claim("w2", later, 60, 10)] == [first]


def test_extend_leases_keeps_a_slow_execution_from_being_taken_over(store):
    enqueue(store, [None])
    [job] = store.claim("w1", NOW, 60, 10)
    soon = NOW + timedelta(seconds=50)
    assert store.extend_leases("w1", [job.id], soon, 60) == 1
    assert store.claim("w2", NOW + timedelta(seconds=61), 60, 10) == []
    assert store.extend_leases("w2", [job.id], soon, 60) == 0  # not its lease
    [taken] = store.claim("w2", soon + timedelta(seconds=61), 60, 10)
    assert taken.id == job.id and taken.attempt == 2
