"""Hand-over: executions leased to the local worker in the transaction that enqueues them."""

from __future__ import annotations

import threading

import pytest
from store_fixtures import NOW, make_canvas

from incidentflow.events import Event
from incidentflow.store.port import Emitted, NewExecution

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")


class FakeWorker:
    id = "local"
    lease_seconds = 60.0

    def __init__(self, slots: int):
        self.free = slots
        self.handed: list = []
        self.lock = threading.Lock()

    def reserve(self, wanted: int) -> int:
        with self.lock:
            granted = min(wanted, self.free)
            self.free -= granted
        return granted

    def unreserve(self, count: int) -> None:
        with self.lock:
            self.free += count

    def hand_over(self, jobs) -> None:
        self.handed.extend(jobs)


def test_new_executions_go_to_free_slots_and_keyed_ones_wait_for_a_claim(store):
    store.save_canvas(make_canvas(extra=2), "", [], NOW)
    worker = FakeWorker(slots=1)
    store.attach_worker(worker)
    first = [NewExecution("A", EVENT), NewExecution("X0", EVENT, "key"),
             NewExecution("X1", EVENT)]
    run_id = store.start_run("demo", "Hook", EVENT, first, NOW)
    [handed] = worker.handed
    assert (handed.node, handed.attempt, handed.root, handed.run_id) == ("A", 1, EVENT, run_id)
    states = {e.node: (e.state, e.attempts) for e in store.get_run(run_id).executions}
    assert states == {"A": ("running", 1), "X0": ("queued", 0), "X1": ("queued", 0)}
    assert worker.free == 0  # the slot is the handed execution's now
    # The rest is claimed as usual; the handed one is not claimed twice.
    assert sorted(j.node for j in store.claim("other", NOW, 60, 10)) == ["X0", "X1"]


def test_finish_hands_downstream_to_the_worker_with_the_run_context(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    run_id = store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = store.claim("local", NOW, 60, 1)
    worker = FakeWorker(slots=1)
    store.attach_worker(worker)
    out = Event("a.done", {"x": 1})
    assert store.finish(job.id, "local", None, [Emitted(out, "default",
                        [NewExecution("B", out)])], NOW, job)
    [handed] = worker.handed
    assert (handed.node, handed.input, handed.root, handed.canvas) == ("B", out, EVENT, "demo")
    assert store.finish(handed.id, "local", None, [], NOW, handed)
    assert store.get_run(run_id).state == "succeeded"


def test_nothing_is_handed_over_when_the_transaction_fails(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    run_id = store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = store.claim("local", NOW, 60, 1)
    worker = FakeWorker(slots=2)
    store.attach_worker(worker)
    good = Emitted(EVENT, "default", [NewExecution("B", EVENT)])  # reserves a slot
    unstorable = Event("bad", {"x": object()})  # then this insert fails
    with pytest.raises(Exception, match="JSON|serializ"):
        store.finish(job.id, "local", None, [good, Emitted(unstorable, "default", [])], NOW, job)
    assert worker.handed == [] and worker.free == 2
    assert [(e.node, e.state) for e in store.get_run(run_id).executions] == [("A", "running")]


def test_a_detached_worker_gets_nothing(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    worker = FakeWorker(slots=2)
    store.attach_worker(worker)
    store.detach_worker(worker)
    run_id = store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    assert worker.handed == []
    assert [e.state for e in store.get_run(run_id).executions] == ["queued"]


def test_work_handed_over_wakes_no_one_and_work_left_queued_does(store):
    """A commit whose executions all went to the local worker needs no wakeup (on
    PostgreSQL: no NOTIFY making every worker run a claim that finds nothing)."""
    woken: list[int] = []
    store.wake_on_work(lambda: woken.append(1))
    store.save_canvas(make_canvas(extra=2), "", [], NOW)
    worker = FakeWorker(slots=2)
    store.attach_worker(worker)
    store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    assert (len(worker.handed), woken) == (1, [])
    run_id = store.start_run("demo", "Hook", EVENT,
                             [NewExecution("A", EVENT), NewExecution("X0", EVENT, "key")],
                             NOW)
    assert (len(worker.handed), woken) == (2, [1])  # the keyed one waits for a claim
    handed = worker.handed[0]
    out = Event("test.out", {}, "2026-03-01T12:00:01Z")
    worker.free = 0  # no slot: the downstream execution is queued, and wakes workers
    assert store.finish(handed.id, "local", None,
                        [Emitted(out, "default", [NewExecution("B", out)])], NOW, handed)
    assert woken == [1, 1]
    assert {e.node: e.state for e in store.get_run(run_id).executions}["X0"] == "queued"

