"""The waits contract any waiting step relies on (SQLite and PostgreSQL): begin only
with the lease, found by kind/canvas/key, settled once, never after its time, timed out
when the step runs again past its time."""

from __future__ import annotations

from datetime import timedelta

from time_fixtures import canvas

from incidentflow.components.base import Waiting
from incidentflow.engine.router import first_executions
from incidentflow.events import Event, utcnow

SOURCE = {"name": "k", "nodes": [{"name": "Start", "type": "start"},
                                 {"name": "Hold", "type": "noop"}],
          "edges": [{"from": "Start", "to": "Hold"}]}


def claimed(store):
    parsed = canvas(SOURCE)
    store.save_canvas(parsed, "", [], utcnow())
    event = Event("start.manual", {})
    store.start_run("k", "Start", event, first_executions(parsed, "Start", event), utcnow())
    [job] = store.claim("w", utcnow(), 30, 10)
    return job


def test_a_wait_is_begun_only_by_the_lease_holder_and_found_by_its_key(store):
    job = claimed(store)
    now = utcnow()
    waiting = Waiting("event", "event incident.updated", now + timedelta(seconds=60),
                      {"eventType": "incident.updated"}, key="incident.updated")
    assert not store.begin_wait(job.id, "someone-else", waiting, None, now)
    assert store.open_waits() == []
    assert store.begin_wait(job.id, "w", waiting, {"configured": True}, now)
    [found] = store.open_waits("event", canvas="k", key="incident.updated")
    assert (found.execution_id, found.run_id, found.node) == (job.id, job.run_id, "Hold")
    assert found.waiting == waiting and found.settled_at is None
    assert store.open_waits("event", canvas="k", key="incident.created") == []
    assert store.open_waits("event", canvas="other", key="incident.updated") == []
    assert store.claim("w", now + timedelta(seconds=30), 30, 10) == []  # not due before
    assert store.next_due(now) == waiting.until


def test_settled_once_and_the_step_runs_again_at_once(store):
    job = claimed(store)
    now = utcnow()
    store.begin_wait(job.id, "w", Waiting("event", "e", now + timedelta(seconds=60)), None, now)
    assert store.settle_wait(job.id, {"event": {"type": "x"}}, now)
    assert not store.settle_wait(job.id, {"event": {"type": "y"}}, now)
    [again] = store.claim("w", utcnow(), 30, 10)
    assert again.id == job.id and again.attempt == 1  # waiting was not a try
    wait = store.take_wait(job.id, utcnow())
    assert wait.outcome == {"event": {"type": "x"}} and not wait.timed_out


def test_past_its_time_it_is_refused_and_taken_as_timed_out(store):
    job = claimed(store)
    now = utcnow()
    until = now + timedelta(seconds=1)
    store.begin_wait(job.id, "w", Waiting("event", "e", until), None, now)
    late = until + timedelta(milliseconds=1)
    assert not store.settle_wait(job.id, {"event": {}}, late)
    [again] = store.claim("w", late, 30, 10)
    wait = store.take_wait(again.id, late)
    assert wait.timed_out and wait.settled_at == until
    assert not store.settle_wait(job.id, {"event": {}}, now)  # settled: even "in time"
