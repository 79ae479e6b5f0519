"""The waitForEvent step on a real store (SQLite and PostgreSQL): matched by the right
event only, its timeout, only events after the wait began, once with two workers and
two events, durable across a worker restart, and shown per run."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from helpers import postgres_only
from time_fixtures import canvas, done, execution, make_worker, running, until

from incidentflow.engine.router import first_executions
from incidentflow.engine.wakeup import Wakeup
from incidentflow.events import Event, utcnow
from incidentflow.store.sql import SqlStore

MATCH = "event.data.incident == root.data.incident and event.data.status == 'closed'"


def waiting_canvas(timeout: float = 30, match: str = MATCH) -> dict:
    """Events with status "open" start a wait for the same incident's "closed" event."""
    return {
        "name": "wfe",
        "nodes": [
            {"name": "Start", "type": "start"},
            {"name": "Opened", "type": "filter",
             "configuration": {"expression": "root.data.status == 'open'"}},
            {"name": "Closed", "type": "waitForEvent",
             "configuration": {"eventType": "start.manual", "match": match,
                               "timeoutSeconds": timeout}},
            {"name": "Matched", "type": "noop"},
            {"name": "TimedOut", "type": "noop"},
        ],
        "edges": [
            {"from": "Start", "to": "Opened"},
            {"from": "Opened", "to": "Closed"},
            {"from": "Closed", "to": "Matched", "channel": "matched"},
            {"from": "Closed", "to": "TimedOut", "channel": "timeout"},
        ],
    }


def save(store, source: dict) -> None:
    store.save_canvas(canvas(source), "", [], utcnow())


def send(store, incident: str, status: str, wakeup: Wakeup | None = None, **extra) -> str:
    """An event of the canvas's trigger (a run of its own, as any delivery)."""
    parsed = canvas(waiting_canvas())
    event = Event("start.manual", {"incident": incident, "status": status, **extra})
    run_id = store.start_run("wfe", "Start", event, first_executions(parsed, "Start", event),
                             utcnow())
    if wakeup is not None:
        wakeup.notify()
    return run_id


def waiting(store, run_id: str):
    return store.event_waits_of_run(run_id)


async def settle() -> None:
    """Long enough for a woken worker to evaluate what it was offered."""
    await asyncio.sleep(0.6)


async def test_only_the_right_incidents_event_resumes_the_wait(store, tmp_path):
    save(store, waiting_canvas())
    wakeup = Wakeup()
    async with running(make_worker(store, tmp_path, wakeup=wakeup)):
        run_id = send(store, "INC-1", "open", wakeup)
        [wait] = await until(lambda: waiting(store, run_id), what="the wait to begin")
        assert (wait.node, wait.event_type, wait.match) == ("Closed", "start.manual", MATCH)
        assert wait.match_key == '"INC-1"'  # the root side, evaluated when it began
        shown = execution(store, run_id, "Closed")
        assert shown.state == "queued" and shown.attempts == 0
        assert shown.next_attempt_at == wait.timeout_at

        send(store, "INC-2", "closed", wakeup)  # another incident: not even offered
        send(store, "INC-1", "updated", wakeup)  # offered, but the match does not hold
        await settle()
        assert waiting(store, run_id) and execution(store, run_id, "Matched") is None
        assert execution(store, run_id, "Closed").next_attempt_at == wait.timeout_at

        send(store, "INC-1", "closed", wakeup, by="alice")
        matched = await until(lambda: done(store, run_id, "Matched"), what="the match")
    assert matched.input.type == "start.manual"
    assert matched.input.data == {"incident": "INC-1", "status": "closed", "by": "alice"}
    assert execution(store, run_id, "TimedOut") is None
    assert waiting(store, run_id) == []
    assert store.get_run(run_id).state == "succeeded"


async def test_without_a_match_the_timeout_passes_the_input_on(store, tmp_path):
    save(store, waiting_canvas(timeout=1.5))
    wakeup = Wakeup()
    async with running(make_worker(store, tmp_path, wakeup=wakeup)):
        run_id = send(store, "INC-1", "open", wakeup)
        [wait] = await until(lambda: waiting(store, run_id), what="the wait to begin")
        send(store, "INC-9", "closed", wakeup)
        timed_out = await until(lambda: done(store, run_id, "TimedOut"), what="the timeout")
        # The ended wait's row goes (after its finish, not awaited by the worker).
        await until(lambda: store.event_wait(wait.execution_id) == (None, []),
                    what="the wait's row to go")
    assert abs((wait.timeout_at - wait.began_at).total_seconds() - 1.5) < 0.01
    assert wait.timeout_at <= timed_out.started_at <= wait.timeout_at + timedelta(seconds=1)
    assert timed_out.input.data == {"incident": "INC-1", "status": "open"}  # unchanged
    assert execution(store, run_id, "Matched") is None
    assert store.get_run(run_id).state == "succeeded"


async def test_an_event_from_before_the_wait_began_does_not_match(store, tmp_path):
    save(store, waiting_canvas(timeout=1.0))
    wakeup = Wakeup()
    async with running(make_worker(store, tmp_path, wakeup=wakeup)):
        send(store, "INC-1", "closed", wakeup)  # arrives first
        run_id = send(store, "INC-1", "open", wakeup)
        await until(lambda: done(store, run_id, "TimedOut"), what="the timeout")
    assert execution(store, run_id, "Matched") is None


async def test_two_events_with_two_workers_resume_the_wait_once(store, database_url, tmp_path):
    save(store, waiting_canvas())
    other_store = SqlStore(database_url, store._roles)  # another process's store
    first, second = Wakeup(), Wakeup()
    try:
        async with running(make_worker(store, tmp_path, worker_id="a", wakeup=first)), \
                running(make_worker(other_store, tmp_path, worker_id="b", wakeup=second)):
            run_id = send(store, "INC-1", "open", first)
            await until(lambda: waiting(store, run_id), what="the wait to begin")
            await asyncio.gather(
                asyncio.to_thread(send, store, "INC-1", "closed", first, n=1),
                asyncio.to_thread(send, other_store, "INC-1", "closed", second, n=2))
            second.notify()
            matched = await until(lambda: done(store, run_id, "Matched"), what="the match")
            await settle()
        run = store.get_run(run_id)
    finally:
        other_store.close()
    assert [e.node for e in run.executions].count("Matched") == 1
    assert matched.input.data["n"] in (1, 2)
    assert execution(store, run_id, "TimedOut") is None
    assert run.state == "succeeded"


async def test_a_wait_survives_its_worker_stopping(store, tmp_path):
    save(store, waiting_canvas())
    async with running(make_worker(store, tmp_path, worker_id="first", wakeup=Wakeup())) \
            as worker:
        run_id = send(store, "INC-1", "open", worker._wakeup)
        await until(lambda: waiting(store, run_id), what="the wait to begin")
    send(store, "INC-1", "closed")  # no worker runs: the offer is rows
    assert execution(store, run_id, "Closed").next_attempt_at <= utcnow()
    async with running(make_worker(store, tmp_path, worker_id="second", wakeup=Wakeup())):
        matched = await until(lambda: done(store, run_id, "Matched"), what="the match")
    assert matched.input.data["status"] == "closed"


async def test_a_keyless_match_is_offered_every_event_of_its_type(store, tmp_path):
    keyless = "event.data.incident in [root.data.incident] and event.data.status != 'open'"
    save(store, waiting_canvas(match=keyless))
    wakeup = Wakeup()
    async with running(make_worker(store, tmp_path, wakeup=wakeup)):
        run_id = send(store, "INC-1", "open", wakeup)
        [wait] = await until(lambda: waiting(store, run_id), what="the wait to begin")
        assert (wait.match_path, wait.match_key) == ("", None)
        send(store, "INC-2", "closed", wakeup)
        await settle()
        assert execution(store, run_id, "Matched") is None
        send(store, "INC-1", "closed", wakeup)
        await until(lambda: done(store, run_id, "Matched"), what="the match")


async def test_a_root_side_that_cannot_be_evaluated_fails_the_wait_naming_the_field(
        store, tmp_path):
    save(store, waiting_canvas(match="event.data.incident == root.data.nope"))
    wakeup = Wakeup()
    async with running(make_worker(store, tmp_path, wakeup=wakeup)):
        run_id = send(store, "INC-1", "open", wakeup)
        failed = await until(lambda: (e := execution(store, run_id, "Closed")) is not None
                             and e.state == "failed" and e, what="the failure")
    assert "nope" in failed.error
    assert failed.error_details["field"] == "match"


@pytest.mark.parametrize(("configuration", "field", "words"), [
    ({"eventType": "", "match": MATCH, "timeoutSeconds": 5}, "eventType", "required"),
    ({"eventType": "x", "match": "event.data.a == secrets.b", "timeoutSeconds": 5},
     "match", "unknown name 'secrets'"),
    ({"eventType": "x", "match": "root.data.a == 1", "timeoutSeconds": 5},
     "match", "never reads event"),
    ({"eventType": "x", "match": "event.data.a ==", "timeoutSeconds": 5},
     "match", "syntax error"),
    ({"eventType": "x", "match": MATCH, "timeoutSeconds": "soon"},
     "timeoutSeconds", "must be a number"),
    ({"eventType": "x" * 201, "match": MATCH, "timeoutSeconds": 5},
     "eventType", "at most 200 characters"),
])
def test_a_bad_configuration_is_refused_naming_node_and_field(configuration, field, words):
    from incidentflow.errors import CanvasError

    source = waiting_canvas()
    source["nodes"][2]["configuration"] = configuration
    with pytest.raises(CanvasError) as raised:
        canvas(source)
    problems = [p for p in raised.value.problems if p.node == "Closed"]
    assert [p.field for p in problems] == [f"configuration.{field}"]
    assert words in problems[0].message


async def test_a_wait_whose_worker_died_mid_evaluation_is_taken_over_and_ends_once(
        store, tmp_path):
    save(store, waiting_canvas())
    async with running(make_worker(store, tmp_path, worker_id="first", wakeup=Wakeup())) \
            as worker:
        run_id = send(store, "INC-1", "open", worker._wakeup)
        [wait] = await until(lambda: waiting(store, run_id), what="the wait to begin")
    send(store, "INC-1", "closed")
    # A worker claims the offered wait and is killed (kill -9): it never records anything.
    claimed = store.claim("killed", utcnow(), 0.5, 10)  # with the closing event's filter
    assert wait.execution_id in {job.id for job in claimed}
    async with running(make_worker(store, tmp_path, worker_id="second", wakeup=Wakeup())):
        matched = await until(lambda: done(store, run_id, "Matched"), what="the takeover")
    assert matched.input.data["status"] == "closed"
    assert [e.node for e in store.get_run(run_id).executions].count("Matched") == 1
    assert execution(store, run_id, "Closed").attempts == 2  # the dead claim, the takeover


@postgres_only()  # PostgreSQL's own behaviour: no SQLite half to skip
async def test_an_event_arriving_while_its_wait_ends_is_recorded_without_an_offer(
        store, database_url, tmp_path):
    import sqlalchemy as sa

    from incidentflow.store.schema import event_waits

    save(store, waiting_canvas())
    async with running(make_worker(store, tmp_path, wakeup=Wakeup())) as worker:
        run_id = send(store, "INC-1", "open", worker._wakeup)
        [wait] = await until(lambda: waiting(store, run_id), what="the wait to begin")
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            ending = conn.begin()  # a worker forgetting the wait, not committed yet
            conn.execute(event_waits.delete().where(
                event_waits.c.execution_id == wait.execution_id))
            arriving = asyncio.create_task(asyncio.to_thread(send, store, "INC-1", "closed"))
            await asyncio.sleep(0.5)  # the event's transaction reaches the wait's row
            ending.commit()
            closing_run = await arriving  # recorded, no foreign-key error
    finally:
        engine.dispose()
    assert store.get_run(closing_run).root.data["status"] == "closed"
    assert store.event_wait(wait.execution_id) == (None, [])


async def test_a_wait_for_an_event_is_counted_as_such(store, tmp_path):
    # The waiting gauge (incidentflow_waiting_executions{kind="event"}) reads this.
    save(store, waiting_canvas())
    wakeup = Wakeup()
    async with running(make_worker(store, tmp_path, wakeup=wakeup)):
        run_id = send(store, "INC-1", "open", wakeup)
        await until(lambda: waiting(store, run_id), what="the wait to begin")
        assert store.waiting_counts(utcnow()) == {"event": 1}
        send(store, "INC-1", "closed", wakeup)
        await until(lambda: done(store, run_id, "Matched"), what="the match")
    assert store.waiting_counts(utcnow()) == {}
