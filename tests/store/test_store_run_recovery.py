"""Runs at scale and their recovery in the store: the attempts history, the filtered
and paged run list, replays linked both ways, retrying a failed execution, the chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_fixtures import NOW, make_canvas

from incidentflow.errors import Conflict, NotFound
from incidentflow.events import Event
from incidentflow.store.port import Emitted, NewExecution
from incidentflow.store.run_list import RunFilter

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")


def start(store, at=NOW, event=EVENT) -> str:
    return store.start_run("demo", "Hook", event, [NewExecution("A", event)], at)


@pytest.fixture
def canvas(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    return store


def test_each_attempt_is_kept_with_its_error_and_wait(canvas):
    store = canvas
    run_id = start(store)
    [job] = store.claim("w1", NOW, 60, 10)
    retry_at = NOW + timedelta(seconds=5)
    assert store.retry_later(job.id, "w1", "HTTP 500", {"status": 500}, None, retry_at,
                             NOW + timedelta(seconds=1))
    [again] = store.claim("w1", retry_at, 60, 10)
    assert again.attempt == 2
    assert store.finish(again.id, "w1", None, [], retry_at + timedelta(seconds=2))
    [execution] = store.get_run(run_id).executions
    first, second = execution.attempt_history
    assert (first.attempt, first.outcome, first.error, first.error_details) == (
        1, "retrying", "HTTP 500", {"status": 500})
    assert (first.started_at, first.ended_at, first.next_attempt_at) == (
        NOW, NOW + timedelta(seconds=1), retry_at)
    assert first.wait_seconds == 4.0
    assert (second.attempt, second.outcome, second.started_at) == (2, "succeeded", retry_at)
    assert execution.attempt_started_at == retry_at


def test_a_first_try_success_writes_no_attempt_row(canvas):
    run_id = start(canvas)
    [job] = canvas.claim("w1", NOW, 60, 10)
    assert canvas.finish(job.id, "w1", None, [], NOW)
    [execution] = canvas.get_run(run_id).executions
    assert execution.attempt_history == [] and execution.attempts == 1


def test_a_failure_is_kept_in_the_history(canvas):
    run_id = start(canvas)
    [job] = canvas.claim("w1", NOW, 60, 10)
    assert canvas.fail(job.id, "w1", "HTTP 422", None, None, NOW)
    [execution] = canvas.get_run(run_id).executions
    assert [(a.attempt, a.outcome, a.error) for a in execution.attempt_history] == [
        (1, "failed", "HTTP 422")]


def test_run_list_filters_pages_and_counts(canvas):
    store = canvas
    ids = [start(store, NOW + timedelta(minutes=i)) for i in range(5)]
    for _ in range(2):  # fail the two oldest runs' executions
        [job] = store.claim("w1", NOW + timedelta(hours=1), 60, 1)
        store.fail(job.id, "w1", "boom", None, None, NOW + timedelta(hours=1))
    everything = RunFilter("demo")
    page = store.find_runs(everything, 2)
    assert page.total == 5 and [r.id for r in page.runs] == ids[:2:-1][:2]
    rest = store.find_runs(everything, 2, page.next_before)
    assert [r.id for r in rest.runs] == [ids[2], ids[1]]
    last = store.find_runs(everything, 2, rest.next_before)
    assert [r.id for r in last.runs] == [ids[0]] and last.next_before is None
    failed = store.find_runs(RunFilter("demo", states=("failed",)), 10)
    assert failed.total == 2 and {r.id for r in failed.runs} == set(ids[:2])
    window = RunFilter("demo", since=NOW + timedelta(minutes=1),
                       until=NOW + timedelta(minutes=3))
    assert [r.id for r in store.find_runs(window, 10).runs] == [ids[2], ids[1]]
    assert store.find_runs(RunFilter("demo", node="A"), 10).total == 5
    assert store.find_runs(RunFilter("demo", node="B"), 10).total == 0
    assert store.run_ids(RunFilter("demo", states=("failed",)), 1) == ([ids[0]], 2)


def test_replays_link_both_ways_and_keep_their_batch(canvas):
    store = canvas
    original = store.get_run(start(store))
    [new_id] = store.start_replays([(original, [NewExecution("A", EVENT)])], "batch-1",
                                   NOW + timedelta(minutes=1))
    replay = store.get_run(new_id)
    assert replay.replay_of == original.id and replay.root == original.root
    assert replay.state == "running" and replay.replay_batch == "batch-1"
    assert store.get_run(original.id).replayed_as == [new_id]
    assert [r.id for r in store.replay_batch("batch-1")] == [new_id]


def test_retry_requeues_a_failed_execution_with_the_same_key(canvas):
    store = canvas
    run_id = start(store)
    [job] = store.claim("w1", NOW, 60, 10)
    store.fail(job.id, "w1", "HTTP 500", None, None, NOW)
    assert store.get_run(run_id).state == "failed"
    later = NOW + timedelta(minutes=5)
    run = store.retry_execution(run_id, job.id, later)
    assert run.state == "running" and run.finished_at is None
    assert (run.executions[0].state, run.executions[0].error) == ("queued", None)
    [again] = store.claim("w1", later, 60, 10)
    assert (again.id, again.attempt, again.idempotency_key) == (job.id, 2, job.idempotency_key)
    out = Event("test.out", {}, "2026-03-01T12:05:00Z")
    assert store.finish(again.id, "w1", None, [Emitted(out, "default", [])], later)
    run = store.get_run(run_id)
    assert run.state == "succeeded"
    assert [a.outcome for a in run.executions[0].attempt_history] == ["failed", "succeeded"]


def test_retry_refuses_what_has_not_failed(canvas):
    run_id = start(canvas)
    execution = canvas.get_run(run_id).executions[0]
    with pytest.raises(Conflict, match="only a failed execution"):
        canvas.retry_execution(run_id, execution.id, NOW)
    with pytest.raises(NotFound):
        canvas.retry_execution(run_id, "nope", NOW)


def test_activity_counts_runs_per_hour(canvas):
    store = canvas
    start(store, NOW - timedelta(hours=2))
    start(store, NOW)
    start(store, NOW + timedelta(minutes=10))
    activity = store.canvas_activity("demo", NOW - timedelta(hours=3), NOW + timedelta(minutes=30))
    assert len(activity.hours) == 4 and activity.hours[-1] == NOW
    assert activity.runs["running"] == [0, 1, 0, 2]
    assert activity.deliveries == {}


def test_activity_counts_deliveries_by_outcome_per_hour(store):
    from store_fixtures import make_canvas as canvas_with_hook

    store.save_canvas(canvas_with_hook(), "", [], NOW)
    endpoint = store.endpoint_for_node("demo", "Hook", NOW)
    store.accept_delivery(endpoint.id, "msg-1", [(EVENT, [NewExecution("A", EVENT)])], NOW)
    store.accept_delivery(endpoint.id, "msg-1", [(EVENT, [])], NOW)  # a duplicate: no row
    store.record_rejection(endpoint.id, "bad signature", NOW + timedelta(minutes=70))
    activity = store.canvas_activity("demo", NOW - timedelta(hours=1),
                                     NOW + timedelta(minutes=90))
    assert activity.deliveries == {"accepted": [0, 1, 0], "rejected": [0, 0, 1]}
    assert activity.runs == {"running": [0, 1, 0]}


def test_a_retried_create_counts_against_the_rate_limit_again(canvas):
    from incidentflow.rate_limit import RateLimit

    store = canvas
    run_id = start(store)
    [job] = store.claim("w1", NOW, 60, 10)
    limit = RateLimit(1, 600)
    assert store.take_create_slot(job.id, "w1", "demo", "A", limit, None, NOW).admitted
    store.fail(job.id, "w1", "HTTP 422", None, None, NOW)
    later = NOW + timedelta(seconds=5)
    store.retry_execution(run_id, job.id, later)
    [again] = store.claim("w1", later, 60, 10)
    verdict = store.take_create_slot(again.id, "w1", "demo", "A", limit, None, later)
    assert (verdict.admitted, verdict.held) == (False, True)  # the window's one slot is used
    assert store.get_run(run_id).executions[0].state == "held"
