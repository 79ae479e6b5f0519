"""The approval step and cancelling waiting runs, on a real store (SQLite and
PostgreSQL) with a real worker: decided once, timed out on time, holding no slot."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from helpers import postgres_only
from time_fixtures import canvas, make_worker, running, until

from incidentflow.components.approval import Approval
from incidentflow.engine.router import first_executions
from incidentflow.engine.wakeup import Wakeup
from incidentflow.errors import Conflict, NotFound, Problem
from incidentflow.events import Event, iso, utcnow
from incidentflow.store.sql import SqlStore


def approval_canvas(name: str, configuration: dict | None = None) -> dict:
    return {
        "name": name,
        "nodes": [
            {"name": "Start", "type": "start"},
            {"name": "Ask", "type": "approval",
             "configuration": configuration or {"message": "Publish {{ root.data.what }}?"}},
            {"name": "Yes", "type": "noop"},
            {"name": "No", "type": "noop"},
            {"name": "Late", "type": "noop"},
        ],
        "edges": [
            {"from": "Start", "to": "Ask"},
            {"from": "Ask", "to": "Yes", "channel": "approved"},
            {"from": "Ask", "to": "No", "channel": "rejected"},
            {"from": "Ask", "to": "Late", "channel": "timeout"},
        ],
    }


def start(store, source: dict, data: dict | None = None) -> str:
    parsed = canvas(source)
    store.save_canvas(parsed, "", [], utcnow())
    event = Event("start.manual", data or {"what": "the status page"})
    return store.start_run(parsed.name, "Start", event,
                           first_executions(parsed, "Start", event), utcnow())


def nodes_done(store, run_id: str) -> dict[str, object]:
    return {e.node: e for e in store.get_run(run_id).executions if e.state == "succeeded"}


def open_wait(store, run_id: str):
    found = [w for w in store.run_waits(run_id) if w.settled_at is None]
    return found[0] if found else None


def decision(name: str, by: str = "lead", comment: str | None = "ok") -> dict:
    return {"decision": name, "by": by, "at": iso(utcnow()), "comment": comment}


@pytest.mark.parametrize(("decided", "next_node"), [("approved", "Yes"), ("rejected", "No")])
async def test_a_decision_goes_on_by_its_channel_with_who_and_why(
        store, tmp_path, decided, next_node):
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, approval_canvas("a"))
        wait = await until(lambda: open_wait(store, run_id), what="the approval to wait")
        assert wait.waiting.kind == "approval"
        assert wait.waiting.detail == {"message": "Publish the status page?", "approvers": []}
        assert wait.waiting.summary == "approval: Publish the status page?"
        asking = next(e for e in store.get_run(run_id).executions if e.node == "Ask")
        assert asking.state == "queued" and asking.attempts == 0  # waiting, not a try
        assert store.settle_wait(wait.execution_id, decision(decided), utcnow())
        done = await until(lambda: next_node in nodes_done(store, run_id) and
                           nodes_done(store, run_id), what=f"{next_node} to run")
    ask = done["Ask"]
    assert [x["channel"] for x in ask.emitted] == [decided]
    event = ask.emitted[0]["event"]
    assert event["type"] == "approval.decided"
    assert event["data"]["decision"] == decided
    assert event["data"]["by"] == "lead" and event["data"]["comment"] == "ok"
    assert event["timestamp"] == event["data"]["at"]
    assert ask.attempts == 1
    assert set(done) == {"Ask", next_node}  # and nothing on the other channels
    assert store.get_run(run_id).state == "succeeded"


async def test_an_approval_times_out_on_time_and_emits_timeout(store, tmp_path):
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, approval_canvas("t", {"message": "ok?", "timeoutSeconds": 1.5}))
        wait = await until(lambda: open_wait(store, run_id), what="the approval to wait")
        due = wait.waiting.until
        assert due is not None
        # two clock reads apart, in one transaction: a loaded machine may take a while
        assert abs((due - wait.began_at).total_seconds() - 1.5) < 0.25
        done = await until(lambda: "Late" in nodes_done(store, run_id) and
                           nodes_done(store, run_id), what="the timeout channel")
    ask = done["Ask"]
    assert due <= ask.finished_at <= due + timedelta(seconds=1)
    assert ask.emitted[0]["channel"] == "timeout"
    assert ask.emitted[0]["event"]["data"] == {"decision": "timeout", "by": None,
                                               "at": iso(due), "comment": None}
    # Decided after the timeout: refused, nothing changes.
    assert not store.settle_wait(wait.execution_id, decision("approved"), utcnow())
    assert set(nodes_done(store, run_id)) == {"Ask", "Late"}


async def test_a_decision_is_recorded_once_even_when_two_race(store, database_url, tmp_path):
    other = SqlStore(database_url, store._roles)  # another process's connection pool
    try:
        async with running(make_worker(store, tmp_path)):
            run_id = start(store, approval_canvas("race"))
            wait = await until(lambda: open_wait(store, run_id), what="the approval to wait")
            barrier = threading.Barrier(2)
            answers: dict[str, bool] = {}

            def decide(which: SqlStore, name: str) -> None:
                barrier.wait()
                answers[name] = which.settle_wait(wait.execution_id,
                                                  decision(name, by=name), utcnow())

            await asyncio.gather(asyncio.to_thread(decide, store, "approved"),
                                 asyncio.to_thread(decide, other, "rejected"))
            assert sorted(answers.values()) == [False, True]
            winner = next(name for name, won in answers.items() if won)
            done = await until(lambda: "Ask" in nodes_done(store, run_id) and
                               nodes_done(store, run_id), what="the decision to be emitted")
        assert done["Ask"].emitted[0]["event"]["data"]["decision"] == winner
        assert done["Ask"].emitted[0]["event"]["data"]["by"] == winner
    finally:
        other.close()


async def test_a_waiting_approval_holds_no_worker_slot(store, tmp_path):
    async with running(make_worker(store, tmp_path, concurrency=1)):
        first = start(store, approval_canvas("one"))
        second = start(store, approval_canvas("two"))
        # Both wait at once on a single slot.
        await until(lambda: open_wait(store, first) and open_wait(store, second),
                    what="both approvals to wait")


async def test_cancelling_a_waiting_run_means_its_execution_never_runs(store, tmp_path):
    source = {
        "name": "c",
        "nodes": [{"name": "Start", "type": "start"},
                  {"name": "Pause", "type": "wait", "configuration": {"seconds": 1}},
                  {"name": "Then", "type": "noop"}],
        "edges": [{"from": "Start", "to": "Pause"}, {"from": "Pause", "to": "Then"}],
    }
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, source)
        await until(lambda: "Pause" in nodes_done(store, run_id), what="the wait step")
        waiting = next(e for e in store.get_run(run_id).executions if e.node == "Then")
        store.cancel_run(run_id, "admin", utcnow())
        await asyncio.sleep((waiting.next_attempt_at - utcnow()).total_seconds() + 1.0)
    run = store.get_run(run_id)
    assert run.state == "cancelled" and run.finished_at is not None
    then = next(e for e in run.executions if e.node == "Then")
    assert then.state == "cancelled" and then.started_at is None and then.attempts == 0
    assert "cancelled by admin" in (then.error or "")


async def test_cancelling_a_run_waiting_for_approval_settles_the_approval(store, tmp_path):
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, approval_canvas("ca"))
        wait = await until(lambda: open_wait(store, run_id), what="the approval to wait")
        store.cancel_run(run_id, "admin", utcnow())
        assert not store.settle_wait(wait.execution_id, decision("approved"), utcnow())
        await asyncio.sleep(0.3)
    run = store.get_run(run_id)
    assert run.state == "cancelled"
    assert [e.state for e in run.executions if e.node == "Ask"] == ["cancelled"]
    assert store.run_waits(run_id)[0].outcome == {"cancelled": True, "by": "admin"}
    assert store.open_waits("approval") == []


def test_cancelling_an_ended_or_unknown_run_is_refused(store):
    parsed = canvas({"name": "s", "nodes": [{"name": "Start", "type": "start"}], "edges": []})
    store.save_canvas(parsed, "", [], utcnow())
    run_id = store.start_run("s", "Start", Event("start.manual", {}), [], utcnow())
    with pytest.raises(Conflict, match="already ended \\(succeeded\\)"):
        store.cancel_run(run_id, "admin", utcnow())
    with pytest.raises(NotFound):
        store.cancel_run("nope", "admin", utcnow())


async def test_waiting_counts_by_kind(store, tmp_path):
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, approval_canvas("m"))
        await until(lambda: open_wait(store, run_id), what="the approval to wait")
        assert store.waiting_counts(utcnow()) == {"approval": 1}
        store.cancel_run(run_id, "admin", utcnow())
    assert store.waiting_counts(utcnow()) == {}


@pytest.mark.parametrize(("configuration", "field", "words"), [
    ({"message": "x", "timeoutSeconds": 0}, "timeoutSeconds", "more than 0"),
    ({"message": "x", "timeoutSeconds": "soon"}, "timeoutSeconds", "must be a number"),
    ({"message": "x", "approvers": [1, 2]}, "approvers", "list of names"),
])
def test_bad_configuration_is_refused_naming_the_field(configuration, field, words):
    problems = Approval().check("Ask", configuration)
    assert [(p.node, p.field) for p in problems] == [("Ask", field)]
    assert words in problems[0].message
    assert isinstance(problems[0], Problem)


async def test_an_approval_timeout_survives_its_worker_stopping(store, tmp_path):
    async with running(make_worker(store, tmp_path, worker_id="first")):
        run_id = start(store, approval_canvas("r", {"message": "ok?", "timeoutSeconds": 1.5}))
        wait = await until(lambda: open_wait(store, run_id), what="the approval to wait")
    # A new worker (a restart) learns of the timeout when it starts and fires it on time.
    async with running(make_worker(store, tmp_path, worker_id="second", wakeup=Wakeup())):
        done = await until(lambda: "Late" in nodes_done(store, run_id) and
                           nodes_done(store, run_id), what="the timeout channel")
    due = wait.waiting.until
    assert due <= done["Ask"].finished_at <= due + timedelta(seconds=1)


@postgres_only()  # PostgreSQL's own behaviour: no SQLite half to skip
async def test_a_decision_in_one_process_wakes_a_worker_in_another(
        store, database_url, tmp_path):
    deciding = SqlStore(database_url, store._roles)  # the web process's store
    try:
        # An idle worker elsewhere polls every 5 s: only the decision's NOTIFY can make
        # the approval go on within a second.
        async with running(make_worker(store, tmp_path, worker_id="elsewhere",
                                       wakeup=Wakeup())):
            run_id = start(store, approval_canvas("n"))
            wait = await until(lambda: open_wait(store, run_id), what="the approval")
            await asyncio.sleep(0.5)  # the worker is idle again, waiting for work
            decided_at = utcnow()
            assert deciding.settle_wait(wait.execution_id, decision("approved"), decided_at)
            done = await until(lambda: "Yes" in nodes_done(store, run_id) and
                               nodes_done(store, run_id), what="the approved channel")
        assert (done["Ask"].finished_at - decided_at).total_seconds() < 1.0
    finally:
        deciding.close()


async def test_a_secret_read_by_the_message_is_masked_in_what_people_see(store, tmp_path):
    from time_fixtures import BOX

    from incidentflow.crypto import MASK

    store.put_secret("DEPLOY_KEY", BOX.encrypt("s3cr3t-value"), utcnow())
    async with running(make_worker(store, tmp_path)):
        run_id = start(store, approval_canvas(
            "sec", {"message": "Deploy with {{ secrets.DEPLOY_KEY }}?"}))
        wait = await until(lambda: open_wait(store, run_id), what="the approval to wait")
    assert "s3cr3t-value" not in repr(wait)
    assert wait.waiting.summary == f"approval: Deploy with {MASK}?"
    assert wait.waiting.detail["message"] == f"Deploy with {MASK}?"
