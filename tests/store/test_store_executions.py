"""claim / lease / finish: each execution runs to one recorded outcome."""

from __future__ import annotations

from datetime import timedelta

from store_fixtures import NOW, make_canvas

from incidentflow.events import Event
from incidentflow.store.port import Emitted, NewExecution

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")
LATER = NOW + timedelta(seconds=61)


def queue_one(store) -> str:
    store.save_canvas(make_canvas(), "", [], NOW)
    return store.start_run("demo", "Hook", EVENT, [NewExecution("A", EVENT)], NOW)


def test_claim_leases_each_execution_once(store):
    run_id = queue_one(store)
    [job] = store.claim("w1", NOW, 60, 10)
    assert (job.run_id, job.node, job.attempt, job.root, job.input) == (
        run_id,
        "A",
        1,
        EVENT,
        EVENT,
    )
    assert job.lease_expires_at == NOW + timedelta(seconds=60)
    assert store.claim("w2", NOW, 60, 10) == []
    assert store.queue_depth(NOW) == 0


def test_expired_lease_is_taken_over_with_next_attempt_and_same_key(store):
    queue_one(store)
    [first] = store.claim("w1", NOW, 60, 10)
    assert store.queue_depth(LATER) == 1
    [second] = store.claim("w2", LATER, 60, 10)
    assert second.id == first.id and second.attempt == 2
    assert second.idempotency_key == first.idempotency_key


def test_finish_with_lost_lease_writes_nothing(store):
    run_id = queue_one(store)
    [job] = store.claim("w1", NOW, 60, 10)
    store.claim("w2", LATER, 60, 10)
    emitted = [Emitted(EVENT, "default", [NewExecution("B", EVENT)])]
    assert store.finish(job.id, "w1", {"x": 1}, emitted, LATER) is False
    assert store.fail(job.id, "w1", "late", None, None, LATER) is False
    run = store.get_run(run_id)
    assert [(e.node, e.state, e.resolved_config) for e in run.executions] == [
        ("A", "running", None)
    ]
    assert set(store.node_events(run_id)) == {"Hook"}


def test_finish_records_events_downstream_and_settles_the_run(store):
    run_id = queue_one(store)
    [job] = store.claim("w1", NOW, 60, 10)
    out = Event("test.out", {"ok": True}, "2026-03-01T12:00:01Z")
    assert store.finish(
        job.id, "w1", {"m": "x"}, [Emitted(out, "default", [NewExecution("B", out)])], NOW
    )
    assert store.get_run(run_id).state == "running"
    [next_job] = store.claim("w1", NOW, 60, 10)
    assert (next_job.node, next_job.input, next_job.root) == ("B", out, EVENT)
    assert store.finish(next_job.id, "w1", None, [], NOW)
    run = store.get_run(run_id)
    assert run.state == "succeeded" and run.finished_at == NOW
    assert run.executions[0].emitted == [{"channel": "default", "event": out.as_dict()}]
    assert store.node_events(run_id) == {"Hook": EVENT, "A": out}


def test_retry_later_requeues_for_its_time(store):
    queue_one(store)
    [job] = store.claim("w1", NOW, 60, 10)
    assert store.retry_later(job.id, "w1", "503", {"s": 503}, None, NOW + timedelta(seconds=5), NOW)
    assert store.claim("w1", NOW + timedelta(seconds=4), 60, 10) == []
    [again] = store.claim("w1", NOW + timedelta(seconds=5), 60, 10)
    assert again.attempt == 2


def test_failure_fails_the_run(store):
    run_id = queue_one(store)
    [job] = store.claim("w1", NOW, 60, 10)
    assert store.fail(job.id, "w1", "bad input", {"status": 422}, None, NOW)
    run = store.get_run(run_id)
    assert run.state == "failed" and run.executions[0].error == "bad input"


def test_release_hands_work_back_without_spending_an_attempt(store):
    queue_one(store)
    store.claim("w1", NOW, 60, 10)
    assert store.release("w1", NOW) == 1
    [job] = store.claim("w2", NOW, 60, 10)
    assert job.attempt == 1


def test_run_without_executions_is_done_at_once(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    run_id = store.start_run("demo", "Hook", EVENT, [], NOW)
    assert store.get_run(run_id).state == "succeeded"
    assert store.list_canvases()[0].last_run_id == run_id


def test_on_work_is_called_after_commits_that_queue_work(store):
    calls = []
    store.wake_on_work(lambda: calls.append(1))
    queue_one(store)
    assert calls == [1]
    store.wake_on_work(None)
    queue_one(store)
    assert calls == [1]  # no one listens any more


def test_an_execution_whose_workers_keep_dying_is_failed_not_taken_over_forever(store):
    run_id = queue_one(store)
    now = NOW
    for attempt, worker in enumerate(("w1", "w2", "w3"), start=1):
        [job] = store.claim(worker, now, 60, 10)  # ... and each worker is killed
        assert job.attempt == attempt
        now += timedelta(seconds=61)
    assert store.claim("w4", now, 60, 10) == []  # the third expiry: failed instead
    run = store.get_run(run_id)
    [execution] = run.executions
    assert (run.state, execution.state, execution.attempts) == ("failed", "failed", 3)
    assert execution.error == (
        "its worker stopped while running it (lease expired) 3 times in a row; failed "
        "rather than taken over again (see the worker logs for what stopped it)")
    assert execution.error_details == {"leaseExpiries": 3}
    assert store.queue_depth(now) == 0


def test_a_recorded_outcome_resets_the_count_of_dead_workers(store):
    from incidentflow.store.work_queue import MAX_LEASE_EXPIRIES

    queue_one(store)
    now = NOW
    for worker in ("w1", "w2"):  # two deaths ...
        store.claim(worker, now, 60, 10)
        now += timedelta(seconds=61)
    [job] = store.claim("w3", now, 60, 10)
    assert job.attempt == 3
    assert store.retry_later(job.id, "w3", "503", None, None, now, now)  # ... then an outcome
    for worker in ("w4", "w5"):
        assert len(store.claim(worker, now, 60, 10)) == 1
        now += timedelta(seconds=61)
    assert MAX_LEASE_EXPIRIES == 3
    [taken] = store.claim("w6", now, 60, 10)  # only two deaths since the outcome
    assert taken.id == job.id and taken.attempt == 6
