"""The create rate limit in the store: slots, trips, held executions, resuming
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

from store_fixtures import NOW, make_canvas

from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store.port import NewExecution
from incidentflow.store.sql import SqlStore

EVENT = Event("thing.created", {"n": 1}, "2026-03-01T12:00:00Z")
CONFIG = {"name": "from the example"}


def queue_runs(store, count: int, canvas: str = "demo") -> list[str]:
    """``count`` runs, each with one execution of node A; returns the run ids."""
    try:
        store.get_canvas(canvas)
    except Exception:
        store.save_canvas(make_canvas(canvas), "", [], NOW)
    return [store.start_run(canvas, "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
            for _ in range(count)]


def claim_all(store, worker: str = "w1", now=NOW):
    return store.claim(worker, now, 60, 1000)


def take(store, job, limit: RateLimit, now=NOW, worker: str = "w1"):
    return store.take_create_slot(job.id, worker, job.canvas, "A", limit, CONFIG, now)


def test_exactly_max_slots_then_the_node_trips_and_holds(store):
    run_ids = queue_runs(store, 5)
    verdicts = [take(store, job, RateLimit(3, 60)) for job in claim_all(store)]
    assert [v.admitted for v in verdicts] == [True, True, True, False, False]
    assert [v.held for v in verdicts] == [False, False, False, True, True]
    assert [v.tripped_now for v in verdicts] == [False, False, False, True, False]
    held = store.get_run(run_ids[3])
    assert held.state == "running" and held.finished_at is None  # the run stays open
    (execution,) = held.executions
    assert execution.state == "held" and execution.attempts == 0
    assert execution.error == (
        "node 'A' went past its rate limit (3 per 60 s) and tripped; this execution is held "
        "until a person resumes the node (release or discard)")
    assert execution.resolved_config == CONFIG
    (state,) = store.node_limits("demo")
    assert (state.node, state.tripped, state.tripped_at, state.held) == ("A", True, NOW, 2)
    assert (state.window_start, state.window_count) == (NOW, 3)
    assert claim_all(store) == []  # held executions are not claimed again


def test_a_tripped_node_holds_even_after_its_window_ends(store):
    queue_runs(store, 2)
    first, second = claim_all(store)
    assert take(store, first, RateLimit(1, 60)).admitted
    assert take(store, second, RateLimit(1, 60)).tripped_now
    store.finish(first.id, "w1", None, [], NOW)
    queue_runs(store, 1)
    later = NOW + timedelta(hours=1)
    (third,) = claim_all(store, now=later)
    verdict = take(store, third, RateLimit(1, 60), now=later)
    assert (verdict.admitted, verdict.held, verdict.tripped_now) == (False, True, False)


def test_a_new_window_starts_once_the_last_one_is_over(store):
    queue_runs(store, 3)
    jobs = claim_all(store)
    limit = RateLimit(2, 60)
    assert take(store, jobs[0], limit).admitted
    assert take(store, jobs[1], limit, now=NOW + timedelta(seconds=59)).admitted
    assert take(store, jobs[2], limit, now=NOW + timedelta(seconds=60)).admitted
    (state,) = store.node_limits("demo")
    assert (state.window_start, state.window_count, state.tripped) == (
        NOW + timedelta(seconds=60), 1, False)


def test_a_retried_execution_does_not_take_a_second_slot(store):
    queue_runs(store, 1)
    (job,) = claim_all(store)
    assert take(store, job, RateLimit(1, 60)).admitted
    later = NOW + timedelta(seconds=1)
    store.retry_later(job.id, "w1", "503", None, None, later, NOW)
    (again,) = claim_all(store, now=later)
    assert again.attempt == 2
    assert take(store, again, RateLimit(1, 60), now=later).admitted
    assert store.node_limits("demo")[0].window_count == 1


def test_a_lost_lease_decides_nothing(store):
    queue_runs(store, 1)
    (job,) = claim_all(store)
    verdict = take(store, job, RateLimit(1, 60), worker="someone else")
    assert (verdict.admitted, verdict.held, verdict.tripped_now) == (False, False, False)
    assert store.node_limits("demo") == []
    assert take(store, job, RateLimit(1, 60)).admitted


def test_slots_hold_across_connections_taking_them_at_once(sql_store, database_url):
    """Two stores (two engines, as two processes would have) race for 7 slots."""
    queue_runs(sql_store, 24)
    jobs = claim_all(sql_store)
    other = SqlStore(database_url, sql_store._roles)
    halves = {sql_store: jobs[0::2], other: jobs[1::2]}
    verdicts = []
    start = threading.Barrier(len(halves))

    def race(racer: SqlStore) -> None:
        start.wait()
        for job in halves[racer]:
            verdicts.append(take(racer, job, RateLimit(7, 60)))

    try:
        threads = [threading.Thread(target=race, args=(racer,)) for racer in halves]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        other.close()
    assert sum(v.admitted for v in verdicts) == 7
    assert sum(v.held for v in verdicts) == 17
    assert sum(v.tripped_now for v in verdicts) == 1
    (state,) = sql_store.node_limits("demo")
    assert (state.window_count, state.held, state.tripped) == (7, 17, True)


def test_release_queues_held_executions_again_admitted_and_untrips(store):
    run_ids = queue_runs(store, 4)
    for job in claim_all(store):
        take(store, job, RateLimit(2, 60))
    later = NOW + timedelta(seconds=5)
    assert store.resume_node("demo", "A", True, later).released == 2
    (state,) = store.node_limits("demo")
    assert (state.tripped, state.held, state.window_count) == (False, 0, 0)
    released = store.get_run(run_ids[2]).executions[0]
    assert (released.state, released.error, released.next_attempt_at) == ("queued", None, later)
    again = claim_all(store, now=later)
    assert sorted(job.run_id for job in again) == run_ids[2:]
    # Released ones were let through by a person: they run without taking slots.
    assert all(take(store, job, RateLimit(2, 60), now=later).admitted for job in again)
    assert store.node_limits("demo")[0].window_count == 0


def test_discard_ends_held_executions_and_finishes_their_runs(store):
    run_ids = queue_runs(store, 3)
    for job in claim_all(store):
        take(store, job, RateLimit(1, 60))
    later = NOW + timedelta(seconds=5)
    assert store.resume_node("demo", "A", False, later).discarded == 2
    for run_id in run_ids[1:]:
        run = store.get_run(run_id)
        (execution,) = run.executions
        assert (run.state, run.finished_at) == ("succeeded", later)
        assert (execution.state, execution.finished_at) == ("discarded", later)
        assert execution.error == ("discarded by a person after the node's rate limit "
                                   "tripped; it never ran")
    assert store.get_run(run_ids[0]).state == "running"  # admitted, still leased
    assert store.node_limits("demo")[0].tripped is False


def test_resume_touches_only_its_own_canvas_and_node(store):
    queue_runs(store, 2, "one")
    queue_runs(store, 2, "two")
    for job in claim_all(store):
        take(store, job, RateLimit(1, 60))
    assert store.resume_node("one", "A", True, NOW).released == 1
    assert store.resume_node("two", "B", True, NOW).released == 0
    states = {(s.canvas, s.node): (s.tripped, s.held) for s in store.node_limits()}
    assert states == {("one", "A"): (False, 0), ("two", "A"): (True, 1)}


def test_deleting_a_canvas_deletes_its_node_limits(store):
    queue_runs(store, 1)
    take(store, claim_all(store)[0], RateLimit(1, 60))
    store.delete_canvas("demo")
    assert store.node_limits() == []
