"""The runaway brakes in the store: the self-trigger guard's records (store.guards),
paused canvases holding deliveries until resumed (store.pauses), the delivery log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_fixtures import NOW, make_canvas

from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store.port import Emitted, NewExecution

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")
KINDS = frozenset({"thing"})
LATER = NOW + timedelta(seconds=5)


@pytest.fixture
def endpoint(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    return store.endpoint_for_node("demo", "Hook", NOW)


@pytest.fixture
def sql_endpoint(sql_store):
    sql_store.save_canvas(make_canvas(), "", [], NOW)
    return sql_store.endpoint_for_node("demo", "Hook", NOW)


def deliver(store, endpoint, webhook_id="msg_1", events=None, reason="", now=NOW):
    events = [(EVENT, [NewExecution("A", EVENT)])] if events is None else events
    return store.accept_delivery(endpoint.id, webhook_id, events, now, reason)


def claimed_create(store, endpoint):
    """A run whose execution A is claimed by w1 and marked as a create in flight."""
    run_id = deliver(store, endpoint, webhook_id="msg_origin").run_ids[0]
    [job] = store.claim("w1", NOW, 60, 1)
    store.begin_create("demo", "thing", job.id, run_id, NOW)
    return run_id, job


def look(store, object_id="obj-1", since=NOW - timedelta(seconds=60), canvas="demo"):
    return store.self_created(canvas, KINDS, object_id, since)


# -- self-trigger guard records ---------------------------------------------------------

def test_a_create_is_in_flight_from_before_its_call_until_its_finish(store, endpoint):
    run_id, job = claimed_create(store, endpoint)
    found = look(store)
    assert found.created_by is None and found.in_flight == {job.id}
    made = Emitted(Event("thing", {"id": "obj-1"}), "default", [], created_id="obj-1")
    assert store.finish(job.id, "w1", None, [made], LATER)
    found = look(store)
    assert found.created_by == run_id and found.in_flight == frozenset()
    assert look(store, object_id="obj-2").created_by is None  # someone else's object


def test_the_guard_knows_objects_per_canvas_and_kind(store, endpoint):
    store.save_canvas(make_canvas("other"), "", [], NOW)
    _, job = claimed_create(store, endpoint)
    made = Emitted(Event("thing", {"id": "obj-1"}), "default", [], created_id="obj-1")
    store.finish(job.id, "w1", None, [made], LATER)
    assert look(store, canvas="other").created_by is None
    assert store.self_created("demo", frozenset({"other-kind"}), "obj-1", NOW).created_by is None


def test_a_failed_create_is_no_longer_in_flight(store, endpoint):
    _, job = claimed_create(store, endpoint)
    store.forget_create(job.id)
    assert look(store).in_flight == frozenset()


def test_forgetting_never_removes_what_was_created(store, endpoint):
    run_id, job = claimed_create(store, endpoint)
    made = Emitted(Event("thing", {"id": "obj-1"}), "default", [], created_id="obj-1")
    store.finish(job.id, "w1", None, [made], LATER)
    store.forget_create(job.id)
    assert look(store).created_by == run_id


def test_an_in_flight_create_older_than_the_live_window_is_not_waited_for(store, endpoint):
    _, job = claimed_create(store, endpoint)
    assert look(store, since=NOW + timedelta(seconds=1)).in_flight == frozenset()
    store.begin_create("demo", "thing", job.id, "r", LATER)  # a retry starts it again
    assert look(store, since=NOW + timedelta(seconds=1)).in_flight == {job.id}


def test_a_finish_that_lost_its_lease_records_no_object(store, endpoint):
    _, job = claimed_create(store, endpoint)
    made = Emitted(Event("thing", {"id": "obj-1"}), "default", [], created_id="obj-1")
    assert not store.finish(job.id, "someone-else", None, [made], LATER)
    found = look(store)
    assert found.created_by is None and found.in_flight == {job.id}


def test_guard_records_go_with_retention_and_with_their_canvas(store, endpoint):
    _, job = claimed_create(store, endpoint)
    kept = store.prune_batch(NOW - timedelta(days=1), NOW - timedelta(days=1), 100)
    assert kept.created_objects == 0 and look(store).in_flight == {job.id}
    pruned = store.prune_batch(LATER, NOW - timedelta(days=1), 100)
    assert pruned.created_objects == 1 and look(store).in_flight == frozenset()
    store.begin_create("demo", "thing", job.id, "r", NOW)
    store.delete_canvas("demo")
    assert look(store).in_flight == frozenset()


# -- paused canvases ----------------------------------------------------------------------

def test_a_paused_canvas_keeps_deliveries_with_their_events_and_starts_nothing(store, endpoint):
    assert store.pause_canvas("demo", NOW) == NOW
    result = deliver(store, endpoint)
    assert (result.outcome, result.run_ids) == ("paused", [])
    assert store.list_runs("demo") == []
    [delivery] = store.recent_deliveries(endpoint.id)
    assert (delivery.outcome, delivery.held, delivery.run_id) == ("paused", 1, None)
    assert "paused" in delivery.reason
    assert store.get_endpoint(endpoint.id, NOW).counts["paused"] == 1
    assert store.held_deliveries("demo") == 1
    assert deliver(store, endpoint).outcome == "duplicate"  # still deduplicated


def test_pausing_twice_keeps_the_first_time_and_shows_on_the_canvas(store, endpoint):
    store.pause_canvas("demo", NOW)
    assert store.pause_canvas("demo", LATER) == NOW
    assert store.get_canvas("demo").paused_at == NOW
    assert [s.paused_at for s in store.list_canvases()] == [NOW]
    store.save_canvas(make_canvas(extra=1), "", [], LATER)  # a new version stays paused
    assert store.get_canvas("demo").paused_at == NOW


def test_nothing_to_run_while_paused_is_ignored_not_held(store, endpoint):
    store.pause_canvas("demo", NOW)
    result = deliver(store, endpoint, events=[], reason="event type not selected")
    assert result.outcome == "ignored"
    assert store.held_deliveries("demo") == 0


def test_resume_and_run_starts_one_run_per_held_event_in_arrival_order(store, endpoint):
    store.pause_canvas("demo", NOW)
    second = Event("test.created", {"n": 2}, "2026-03-01T12:00:01Z")
    deliver(store, endpoint, "msg_1", now=NOW)
    deliver(store, endpoint, "msg_2", [(second, [])], now=LATER)
    resumed = store.resume_canvas("demo", lambda node, event: [NewExecution("A", event)], LATER)
    assert len(resumed.run_ids) == 2 and resumed.discarded == 0
    runs = {run.id: run for run in store.list_runs("demo")}
    assert [runs[r].root for r in resumed.run_ids] == [EVENT, second]
    assert {runs[r].trigger_node for r in resumed.run_ids} == {"Hook"}
    run = store.get_run(resumed.run_ids[0])
    assert [(e.node, e.state) for e in run.executions] == [("A", "queued")]
    log = {d.webhook_id: d for d in store.recent_deliveries(endpoint.id)}
    assert log["msg_1"].run_id == resumed.run_ids[0] and log["msg_1"].held == 0
    assert log["msg_1"].outcome == "paused" and "run" in log["msg_1"].reason
    assert store.get_canvas("demo").paused_at is None
    assert deliver(store, endpoint, "msg_3").outcome == "accepted"


def test_resume_and_discard_starts_nothing_and_says_so(store, endpoint):
    store.pause_canvas("demo", NOW)
    deliver(store, endpoint)
    resumed = store.resume_canvas("demo", None, LATER)
    assert (resumed.run_ids, resumed.discarded) == ([], 1)
    assert store.list_runs("demo") == []
    [delivery] = store.recent_deliveries(endpoint.id)
    assert delivery.held == 0 and "discarded" in delivery.reason
    assert store.held_deliveries("demo") == 0


def test_a_held_delivery_outlives_retention_until_resumed(store, endpoint):
    store.pause_canvas("demo", NOW)
    deliver(store, endpoint)
    assert store.prune_batch(LATER, LATER, 100).deliveries == 0
    store.resume_canvas("demo", None, LATER)
    assert store.prune_batch(LATER, LATER, 100).deliveries == 1


def test_pause_and_resume_of_an_unknown_canvas_are_not_found(store):
    with pytest.raises(NotFound):
        store.pause_canvas("nope", NOW)
    with pytest.raises(NotFound):
        store.resume_canvas("nope", None, NOW)
    with pytest.raises(NotFound):
        store.held_deliveries("nope")


@pytest.mark.parametrize("in_savepoint", [False, True])
def test_a_delivery_alone_holds_too(sql_store, sql_endpoint, in_savepoint):
    """The path a redone batch takes (``accepts.accept_one``; in a savepoint where
    another process may insert the same webhook-id) pauses like the grouped one."""
    from incidentflow.store.accepts import Accept, accept_one

    sql_store.pause_canvas("demo", NOW)
    with sql_store._db.write() as conn:
        result = accept_one(conn, Accept(sql_endpoint.id, "msg_1",
                                         [(EVENT, [NewExecution("A", EVENT)])], NOW),
                            in_savepoint)
        ignored = accept_one(conn, Accept(sql_endpoint.id, "msg_2", [], NOW, reason="why not"),
                             in_savepoint)
    assert (result.outcome, ignored.outcome, ignored.reason) == ("paused", "ignored", "why not")
    assert sql_store.held_deliveries("demo") == 1


# -- the delivery log -----------------------------------------------------------------------

def test_the_delivery_log_is_newest_first_with_outcome_and_reason(store, endpoint):
    deliver(store, endpoint, "msg_1", now=NOW)
    deliver(store, endpoint, "msg_2", events=[], reason="self-triggered: thing x",
            now=NOW + timedelta(seconds=1))
    store.record_rejection(endpoint.id, "signature mismatch", NOW + timedelta(seconds=2))
    store.pause_canvas("demo", NOW)
    deliver(store, endpoint, "msg_3", now=NOW + timedelta(seconds=3))
    log = store.recent_deliveries(endpoint.id, 10)
    assert [(d.webhook_id, d.outcome) for d in log] == [
        ("msg_3", "paused"), (None, "rejected"), ("msg_2", "ignored"), ("msg_1", "accepted")]
    assert log[2].reason == "self-triggered: thing x" and log[3].run_id is not None
    assert [d.webhook_id for d in store.recent_deliveries(endpoint.id, 2)] == ["msg_3", None]
    counts = store.get_endpoint(endpoint.id, NOW).counts
    assert {k: counts[k] for k in ("accepted", "ignored", "rejected", "paused", "filtered")} == {
        "accepted": 1, "ignored": 1, "rejected": 1, "paused": 1, "filtered": 0}
