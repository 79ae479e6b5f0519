"""Cancelling a run against the queue itself (SQLite and PostgreSQL): a queued retry
never runs, a running execution's outcome is refused, and what the run waits for is
listed until then."""

from __future__ import annotations

from datetime import timedelta

from time_fixtures import canvas

from incidentflow.engine.router import first_executions
from incidentflow.events import Event, utcnow
from incidentflow.store.port import Emitted, NewExecution
from incidentflow.web.waiting import waiting_items

SOURCE = {
    "name": "c",
    "nodes": [{"name": "Start", "type": "start"}, {"name": "Call", "type": "noop"},
              {"name": "Then", "type": "noop"}],
    "edges": [{"from": "Start", "to": "Call"}, {"from": "Call", "to": "Then"}],
}


def start(store) -> str:
    parsed = canvas(SOURCE)
    store.save_canvas(parsed, "", [], utcnow())
    event = Event("start.manual", {})
    return store.start_run("c", "Start", event, first_executions(parsed, "Start", event),
                           utcnow())


def test_a_queued_retry_is_listed_then_never_runs_once_cancelled(store):
    run_id = start(store)
    now = utcnow()
    [job] = store.claim("w", now, 30, 10)
    later = now + timedelta(seconds=1)
    assert store.retry_later(job.id, "w", "HTTP 503", None, None, later, now)
    [item] = waiting_items(store.get_run(run_id), store.run_waits(run_id))
    assert (item.kind, item.node, item.until) == ("retry", "Call", later)
    assert "HTTP 503" in item.summary

    store.cancel_run(run_id, "ops", utcnow())
    assert store.claim("w", later + timedelta(seconds=5), 30, 10) == []  # never runs
    run = store.get_run(run_id)
    assert run.state == "cancelled"
    assert [(e.node, e.state) for e in run.executions] == [("Call", "cancelled")]
    assert waiting_items(run, []) == []


def test_a_running_executions_outcome_is_refused_after_a_cancel(store):
    run_id = start(store)
    now = utcnow()
    [job] = store.claim("w", now, 30, 10)
    store.cancel_run(run_id, "ops", utcnow())
    emitted = [Emitted(Event("x", {}), "default", [NewExecution("Then", Event("x", {}))])]
    assert not store.finish(job.id, "w", None, emitted, utcnow())
    run = store.get_run(run_id)
    assert run.state == "cancelled"
    assert [(e.node, e.state) for e in run.executions] == [("Call", "cancelled")]
    assert store.claim("w", utcnow(), 30, 10) == []  # and it enqueued nothing


def test_an_execution_queued_by_a_wait_is_listed_with_its_time(store):
    run_id = start(store)
    now = utcnow()
    [job] = store.claim("w", now, 30, 10)
    due = now + timedelta(seconds=60)
    emitted = [Emitted(Event("x", {}), "default",
                       [NewExecution("Then", Event("x", {}), not_before=due)])]
    assert store.finish(job.id, "w", None, emitted, now)
    [item] = waiting_items(store.get_run(run_id), store.run_waits(run_id))
    assert (item.kind, item.node, item.until) == ("wait", "Then", due)
    assert store.waiting_counts(now) == {"wait": 1}
