"""accept_delivery: one transaction, deduplicated per endpoint and webhook-id."""

from __future__ import annotations

import threading

import pytest
from store_fixtures import NOW, make_canvas

from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store.port import NewExecution

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")


@pytest.fixture
def endpoint(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    return store.endpoint_for_node("demo", "Hook", NOW)


@pytest.fixture
def sql_endpoint(sql_store):
    sql_store.save_canvas(make_canvas(), "", [], NOW)
    return sql_store.endpoint_for_node("demo", "Hook", NOW)


def deliver(store, endpoint, webhook_id="msg_1", events=None):
    events = [(EVENT, [NewExecution("A", EVENT)])] if events is None else events
    return store.accept_delivery(endpoint.id, webhook_id, events, NOW)


def test_accepted_delivery_creates_run_event_and_execution(store, endpoint):
    result = deliver(store, endpoint)
    assert result.outcome == "accepted" and len(result.run_ids) == 1
    run = store.get_run(result.run_ids[0])
    assert (run.canvas, run.canvas_version, run.trigger_node) == ("demo", 1, "Hook")
    assert run.root == EVENT and run.state == "running"
    assert [(e.node, e.state, e.input) for e in run.executions] == [("A", "queued", EVENT)]
    assert store.node_events(run.id) == {"Hook": EVENT}
    delivery = store.recent_deliveries(endpoint.id)[0]
    assert (delivery.webhook_id, delivery.outcome, delivery.run_id) == ("msg_1", "accepted", run.id)


def test_duplicate_webhook_id_creates_nothing(store, endpoint):
    deliver(store, endpoint)
    again = deliver(store, endpoint)
    assert again.outcome == "duplicate" and again.run_ids == []
    assert len(store.list_runs("demo")) == 1
    assert len(store.recent_deliveries(endpoint.id)) == 1
    counts = store.get_endpoint(endpoint.id, NOW).counts
    assert counts["accepted"] == 1 and counts["duplicate"] == 1


def test_same_webhook_id_on_another_endpoint_is_not_a_duplicate(store, endpoint):
    store.save_canvas(make_canvas("other"), "", [], NOW)
    other = store.endpoint_for_node("other", "Hook", NOW)
    deliver(store, endpoint)
    assert deliver(store, other).outcome == "accepted"


def test_no_events_is_ignored_but_still_deduplicated(store, endpoint):
    assert deliver(store, endpoint, events=[]).outcome == "ignored"
    assert deliver(store, endpoint, events=[]).outcome == "duplicate"
    assert store.list_runs("demo") == []


def test_without_webhook_id_every_delivery_runs(store, endpoint):
    deliver(store, endpoint, webhook_id=None)
    deliver(store, endpoint, webhook_id=None)
    assert len(store.list_runs("demo")) == 2


def test_failure_midway_leaves_nothing(store, endpoint):
    unstorable = Event("x", {"not json": object()})
    bad = [(EVENT, [NewExecution("A", EVENT)]), (unstorable, [NewExecution("A", unstorable)])]
    with pytest.raises(Exception):  # noqa: B017 - the driver's error type varies
        deliver(store, endpoint, events=bad)
    assert store.list_runs("demo") == [] and store.recent_deliveries(endpoint.id) == []
    assert deliver(store, endpoint).outcome == "accepted"  # the id was not burnt


def test_concurrent_duplicates_make_exactly_one_run(store, endpoint):
    barrier = threading.Barrier(6)
    outcomes = []

    def send():
        barrier.wait()
        outcomes.append(deliver(store, endpoint).outcome)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted"] + ["duplicate"] * 5
    assert len(store.list_runs("demo")) == 1


def test_rejections_are_logged_and_counted(store, endpoint):
    store.record_rejection(endpoint.id, "signing secret not set", NOW)
    delivery = store.recent_deliveries(endpoint.id)[0]
    assert (delivery.outcome, delivery.reason) == ("rejected", "signing secret not set")
    assert store.get_endpoint(endpoint.id, NOW).counts["rejected"] == 1
    assert store.get_endpoint(endpoint.id, NOW).last_delivery_at == NOW


def test_unknown_endpoint_is_not_found(store):
    with pytest.raises(NotFound):
        store.accept_delivery("nope", "m", [], NOW)


def test_two_processes_receiving_the_same_redelivery_answer_it_once(database_url, test_registry):
    """Two stores on one database (as two processes: each its own writer) receive the
    same webhook-ids at once: each id starts one run and every other copy is answered
    "duplicate" (PostgreSQL: an insert that loses to the other process's is read again,
    alone, and answered as the duplicate it is)."""
    from concurrent.futures import ThreadPoolExecutor

    from incidentflow.store.sql import SqlStore

    stores = [SqlStore(database_url, test_registry) for _ in range(2)]
    stores[0].migrate()
    try:
        stores[0].save_canvas(make_canvas(), "", [], NOW)
        endpoint = stores[0].endpoint_for_node("demo", "Hook", NOW).id
        event = Event("test.created", {}, "2026-03-01T12:00:00Z")
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(store.accept_delivery, endpoint, f"w{i}", [(event, [])], NOW)
                       for i in range(20) for store in stores * 2]
            outcomes = [f.result(30).outcome for f in futures]
        assert outcomes.count("accepted") == 20
        assert outcomes.count("duplicate") == 60
    finally:
        for store in stores:
            store.close()


def test_a_delivery_whose_insert_loses_to_another_process_is_a_duplicate(sql_store, sql_endpoint):
    """Another process inserts the same webhook-id after our dedupe read and commits
    while our insert waits on it (PostgreSQL): the delivery, alone in its savepoint,
    is read again and answered "duplicate" instead of failing. (SQLite's writers are
    serial: ours starts after theirs committed and the read itself sees it.)"""
    import time

    import sqlalchemy as sa

    from incidentflow.store.accepts import Accept, accept_one
    from incidentflow.store.schema import deliveries

    other = sql_store.engine.connect()
    other_tx = other.begin()
    other.execute(deliveries.insert().values(
        id="theirs", endpoint_id=sql_endpoint.id, webhook_id="msg_1", outcome="accepted",
        reason="", run_id=None, received_at=NOW))
    answers = []

    def ours():
        with sql_store._db.write() as conn:
            answers.append(accept_one(conn, Accept(sql_endpoint.id, "msg_1", [(EVENT, [])], NOW),
                                      concurrent_inserts=not sql_store._db.is_sqlite))

    thread = threading.Thread(target=ours)
    thread.start()
    time.sleep(0.3)  # ours is waiting: on their row (PostgreSQL) or the write lock (SQLite)
    other_tx.commit()
    other.close()
    thread.join(10)
    assert [a.outcome for a in answers] == ["duplicate"]
    with sql_store.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(deliveries)) == 1
    assert sql_store.get_endpoint(sql_endpoint.id, NOW).counts["duplicate"] == 1
