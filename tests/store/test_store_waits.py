"""Waiting steps, cancelling a run, waitForEvent's offers and the catch-up claim, on the
store behaviour suite: the same assertions on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_fixtures import NOW, make_canvas

from incidentflow.errors import Conflict, NotFound
from incidentflow.event_match import key_of, rule_of
from incidentflow.events import Event
from incidentflow.store.port import EventWait, NewExecution
from incidentflow.wait_records import Waiting

EVENT = Event("test.created", {"incident": {"id": "I1"}}, "2026-03-01T12:00:00Z")
LATER = NOW + timedelta(minutes=10)


@pytest.fixture
def canvas(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    return store


def waiting_job(store, until=LATER):
    """A run whose step A has begun to wait for an approval until ``until``."""
    run_id = store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = store.claim("w1", NOW, 60, 10)
    waiting = Waiting("approval", "Publish?", until, {"who": "ops"})
    assert store.begin_wait(job.id, "w1", waiting, None, NOW)
    return run_id, job


def test_a_waiting_step_holds_no_lease_and_is_due_at_its_timeout(canvas):
    run_id, job = waiting_job(canvas)
    assert canvas.claim("w2", NOW + timedelta(minutes=1), 60, 10) == []
    [wait] = canvas.run_waits(run_id)
    assert (wait.node, wait.waiting.kind, wait.waiting.detail, wait.settled_at) == (
        "A", "approval", {"who": "ops"}, None)
    assert canvas.waiting_counts(NOW) == {"approval": 1}
    assert [w.execution_id for w in canvas.open_waits("approval")] == [job.id]
    [again] = canvas.claim("w2", LATER, 60, 10)
    assert again.attempt == 1  # waiting was no attempt
    assert canvas.take_wait(job.id, LATER).timed_out


def test_a_wait_is_settled_once_and_its_step_is_due_at_once(canvas):
    _, job = waiting_job(canvas)
    at = NOW + timedelta(minutes=1)
    assert canvas.settle_wait(job.id, {"decision": "approve"}, at)
    assert not canvas.settle_wait(job.id, {"decision": "reject"}, at)
    [again] = canvas.claim("w2", at, 60, 10)
    assert again.id == job.id
    assert canvas.take_wait(job.id, at).outcome == {"decision": "approve"}
    assert canvas.open_waits() == []


def test_a_decision_after_the_timeout_is_refused(canvas):
    _, job = waiting_job(canvas)
    assert not canvas.settle_wait(job.id, {"decision": "approve"}, LATER)


def test_a_lost_lease_begins_no_wait(canvas):
    canvas.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = canvas.claim("w1", NOW, 60, 10)
    assert not canvas.begin_wait(job.id, "someone-else", Waiting("approval", "x", LATER),
                                 None, NOW)
    assert canvas.take_wait(job.id, NOW) is None


def test_cancelling_a_run_settles_its_waits_and_refuses_a_running_outcome(canvas):
    run_id, job = waiting_job(canvas)
    canvas.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [running] = canvas.claim("w1", NOW, 60, 10)
    canvas.cancel_run(run_id, "alice", NOW)
    assert canvas.get_run(run_id).state == "cancelled"
    assert canvas.take_wait(job.id, NOW).outcome == {"cancelled": True, "by": "alice"}
    assert canvas.finish(running.id, "w1", None, [], NOW)  # another run: untouched
    assert canvas.claim("w2", LATER, 60, 10) == []  # the cancelled step never runs
    with pytest.raises(Conflict):
        canvas.cancel_run(run_id, "alice", NOW)
    with pytest.raises(NotFound):
        canvas.cancel_run("nope", "alice", NOW)


def test_an_arriving_event_is_offered_to_the_wait_it_matches_by_key(canvas):
    rule = rule_of("event.data.incident.id == root.data.incident.id")
    run_id = canvas.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)
    [job] = canvas.claim("w1", NOW, 60, 10)
    wait = EventWait(job.id, run_id, "demo", "A", "test.updated", "m", rule.stored_path,
                     key_of("I1"), NOW, LATER)
    assert canvas.park_for_event(wait, "w1", [], None, NOW) == LATER
    assert [w.execution_id for w in canvas.event_waits_of_run(run_id)] == [job.id]
    other = Event("test.updated", {"incident": {"id": "I2"}}, "2026-03-01T12:01:00Z")
    match = Event("test.updated", {"incident": {"id": "I1"}}, "2026-03-01T12:02:00Z")
    at = NOW + timedelta(minutes=2)
    for event in (other, match):
        canvas.start_run("demo", "Hook", event, [], at)
    found, offers = canvas.event_wait(job.id, offers=10)
    assert found == wait
    assert [o.event.data for o in offers] == [match.data]
    [again] = canvas.claim("w2", at, 60, 10)  # the offer made it due now
    assert again.id == job.id
    assert canvas.park_for_event(wait, "w2", [offers[0].id], None, at) == LATER
    assert canvas.event_offers(job.id, 10) == []
    [last] = canvas.claim("w2", LATER, 60, 10)  # its timeout
    assert canvas.finish(last.id, "w2", None, [], LATER)
    canvas.end_event_wait(job.id)  # not awaited in SQL: an ended step is not listed anyway
    assert canvas.event_waits_of_run(run_id) == []


def test_a_change_the_poll_ran_is_not_claimed_by_its_webhook(canvas):
    assert canvas.claim_incident_change("demo", "Hook", "I1", "t1", "msg_1", NOW)
    assert canvas.start_caught_up_run("demo", "Hook", "I1", "t1", EVENT, [], NOW) is None
    run_id = canvas.start_caught_up_run("demo", "Hook", "I2", "t1", EVENT, [], NOW)
    assert run_id is not None
    assert not canvas.claim_incident_change("demo", "Hook", "I2", "t1", "msg_2", NOW)
    canvas.note_catch_up_poll("demo", "Hook", NOW, LATER, 1, None)
    state = canvas.catch_up_state("demo", "Hook")
    assert (state.since, state.last_poll_at, state.last_found) == (NOW, LATER, 1)


def test_a_rejection_keeps_its_code_and_a_filtered_delivery_is_counted_so(canvas):
    endpoint = canvas.endpoint_for_node("demo", "Hook", NOW)
    canvas.record_rejection(endpoint.id, "signature mismatch", NOW, "bad_signature")
    canvas.accept_delivery(endpoint.id, "msg_1", [], NOW, reason="filtered: severity minor")
    newest, oldest = canvas.recent_deliveries(endpoint.id)
    assert (oldest.outcome, oldest.code) == ("rejected", "bad_signature")
    assert newest.outcome == "filtered"
    assert canvas.get_endpoint(endpoint.id, NOW).counts["filtered"] == 1


def test_a_runs_trigger_event_can_be_replaced(canvas):
    run_id = canvas.start_run("demo", "Hook", EVENT, [], NOW)
    fuller = Event("test.created", {"incident": {"id": "I1", "name": "x"}}, EVENT.timestamp)
    assert canvas.replace_root_event(run_id, fuller)
    assert canvas.get_run(run_id).root == fuller
    assert not canvas.replace_root_event("nope", fuller)
