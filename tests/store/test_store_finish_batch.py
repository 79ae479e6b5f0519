"""Set-based finishes (store.finishes): many finishes in one group-commit batch are
recorded together, and each still answers for itself."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from store_fixtures import NOW, make_canvas
from test_store_group_commit import hold_the_writer

from incidentflow.events import Event
from incidentflow.store.port import Emitted, NewExecution


@pytest.fixture
def store(sql_store):
    """About SQL itself: SQLite and PostgreSQL only."""
    return sql_store

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")
OUT = Event("test.out", {"ok": True}, "2026-03-01T12:00:01Z")
LATER = NOW + timedelta(seconds=61)


def start_runs(store, count: int) -> list[str]:
    store.save_canvas(make_canvas(), "", [], NOW)
    return [
        store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
        for _ in range(count)
    ]


def finish_in_one_batch(store, calls: list[tuple]) -> list[bool]:
    """Submit every ``store.finish(*call)`` while the writer is held: one batch."""
    release = hold_the_writer(store)
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(store.finish, *call) for call in calls]
        deadline = time.monotonic() + 10
        while store._db.writer._jobs.qsize() < len(calls) and time.monotonic() < deadline:
            time.sleep(0.001)  # until every finish is queued behind the held batch
        release.set()
        return [future.result(10) for future in futures]


def test_a_batch_of_finishes_records_each_and_enqueues_downstream(store):
    runs = start_runs(store, 3)
    jobs = store.claim("w1", NOW, 60, 10)
    to_b = [Emitted(OUT, "default", [NewExecution("B", OUT)])]
    assert finish_in_one_batch(store, [(job.id, "w1", {"i": i}, to_b, NOW)
                                       for i, job in enumerate(jobs)]) == [True] * 3
    for run_id in runs:
        run = store.get_run(run_id)
        assert run.state == "running"
        assert [(e.node, e.state) for e in run.executions] == [("A", "succeeded"),
                                                                ("B", "queued")]
        assert store.node_events(run_id) == {"Hook": EVENT, "A": OUT}
    next_jobs = store.claim("w1", NOW, 60, 10)
    assert sorted(job.run_id for job in next_jobs) == sorted(runs)
    assert finish_in_one_batch(store, [(job.id, "w1", None, [], NOW)
                                       for job in next_jobs]) == [True] * 3
    assert {store.get_run(run_id).state for run_id in runs} == {"succeeded"}
    assert store.queue_depth(LATER) == 0


def test_in_one_batch_a_lost_lease_and_a_second_finish_are_refused(store):
    runs = start_runs(store, 2)
    kept, lost = store.claim("w1", NOW, 60, 10)
    [taken_over] = store.claim("w2", LATER, 60, 1)  # its lease expired: w2 holds it now
    assert taken_over.id in (kept.id, lost.id)
    kept, lost = (lost, kept) if taken_over.id == kept.id else (kept, lost)
    answers = finish_in_one_batch(store, [
        (lost.id, "w1", None, [], NOW),
        (kept.id, "w1", None, [], NOW),
        (kept.id, "w1", None, [], NOW),
    ])
    assert answers == [False, True, False]
    states = {store.get_run(run_id).state for run_id in runs}
    assert states == {"running", "succeeded"}
    lost_run = next(run for run in runs if run == lost.run_id)
    assert [e.state for e in store.get_run(lost_run).executions] == ["running"]


def test_a_run_whose_other_branch_failed_ends_failed(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    run_id = store.start_run("demo", "Hook", EVENT,
                             [NewExecution("A", EVENT), NewExecution("B", EVENT)], NOW)
    first, second = store.claim("w1", NOW, 60, 10)
    assert store.fail(first.id, "w1", "bad", None, None, NOW)
    assert store.get_run(run_id).state == "running"
    assert finish_in_one_batch(store, [(second.id, "w1", None, [], NOW)]) == [True]
    assert store.get_run(run_id).state == "failed"
