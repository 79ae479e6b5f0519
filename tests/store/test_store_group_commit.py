"""Group commit: concurrent writes share a transaction, yet each answers for itself."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from store_fixtures import NOW, make_canvas

from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store.accepts import Accept, accept_many, accept_one
from incidentflow.store.bulk import BulkStatement
from incidentflow.store.port import NewExecution
from incidentflow.store.schema import deliveries


@pytest.fixture
def store(sql_store):
    """About SQL itself: SQLite and PostgreSQL only."""
    return sql_store

EVENT = Event("test.created", {"n": 1}, "2026-03-01T12:00:00Z")


def endpoint_of(store) -> str:
    store.save_canvas(make_canvas(), "", [], NOW)
    return store.endpoint_for_node("demo", "Hook", NOW).id


def hold_the_writer(store) -> threading.Event:
    """Occupy the writer thread until the returned event is set, so every job
    submitted meanwhile lands in one batch."""
    release, started = threading.Event(), threading.Event()

    def block(conn):
        started.set()
        release.wait(10)

    store._db.writer.submit(block)
    started.wait(10)
    return release


def test_a_failing_job_does_not_fail_its_batch_mates(store):
    endpoint = endpoint_of(store)
    release = hold_the_writer(store)
    accepts = [
        lambda: store.accept_delivery(
            endpoint, "good-1", [(EVENT, [NewExecution("A", EVENT)])], NOW
        ),
        lambda: store.accept_delivery("no-such-endpoint", "bad", [(EVENT, [])], NOW),
        lambda: store.accept_delivery(endpoint, "good-2", [(EVENT, [])], NOW),
    ]
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(call) for call in accepts]
        release.set()
        good1, good2 = futures[0].result(10), futures[2].result(10)
        with pytest.raises(NotFound):
            futures[1].result(10)
    assert (good1.outcome, good2.outcome) == ("accepted", "accepted")
    assert store.get_run(good1.run_ids[0]).executions[0].node == "A"
    assert [d.webhook_id for d in store.recent_deliveries(endpoint)] == ["good-2", "good-1"]


def test_duplicates_in_one_batch_resolve_per_delivery(store):
    endpoint = endpoint_of(store)
    release = hold_the_writer(store)
    ids = ["a", "b", "a", "c", "b", "a"]
    with ThreadPoolExecutor(len(ids)) as pool:
        futures = [
            pool.submit(store.accept_delivery, endpoint, wid, [(EVENT, [])], NOW) for wid in ids
        ]
        release.set()
        outcomes = [f.result(10).outcome for f in futures]
    assert sorted(outcomes) == ["accepted"] * 3 + ["duplicate"] * 3
    counts = store.get_endpoint(endpoint, NOW).counts
    assert (counts["accepted"], counts["duplicate"]) == (3, 3)
    with store.engine.connect() as conn:
        stored = conn.scalar(sa.select(sa.func.count()).select_from(deliveries))
    assert stored == 3


def test_a_failed_commit_fails_every_job_of_the_batch_and_writes_nothing(sqlite_store):
    """SQLite only: it needs a violation deferred to COMMIT (``defer_foreign_keys``)."""
    store = sqlite_store
    endpoint = endpoint_of(store)
    release = hold_the_writer(store)

    def break_the_commit(conn):
        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        conn.execute(deliveries.insert().values(
            id="orphan", endpoint_id="gone", webhook_id=None, outcome="rejected", reason="",
            run_id=None, received_at=NOW))

    ok = store._db.writer.submit(
        lambda conn: accept_one(conn, Accept(endpoint, "x", [(EVENT, [])], NOW), False)
    )
    broken = store._db.writer.submit(break_the_commit)
    release.set()
    for future in (ok, broken):
        with pytest.raises(sa.exc.IntegrityError):
            future.result(10)
    assert store.recent_deliveries(endpoint) == []  # not answered, not written


def test_a_batch_of_deliveries_is_recorded_set_based_with_per_delivery_answers(store):
    from datetime import timedelta

    endpoint = endpoint_of(store)
    later = NOW + timedelta(seconds=3)
    batch = [
        Accept(endpoint, "a", [(EVENT, [NewExecution("A", EVENT)])], NOW),
        Accept(endpoint, "a", [(EVENT, [NewExecution("A", EVENT)])], NOW),  # same id
        Accept(endpoint, "b", [], NOW),  # nothing to run: ignored, still deduplicated
        Accept(endpoint, None, [(EVENT, [])], NOW),  # no id: never a duplicate
        Accept(endpoint, None, [(EVENT, [])], later),
    ]
    with store._db.write() as conn:
        results = accept_many(conn, batch)
    assert [r.outcome for r in results] == [
        "accepted", "duplicate", "ignored", "accepted", "accepted"]
    assert [len(r.run_ids) for r in results] == [1, 0, 0, 1, 1]
    run = store.get_run(results[0].run_ids[0])
    assert [(e.node, e.state) for e in run.executions] == [("A", "queued")]
    found = store.get_endpoint(endpoint, NOW)
    assert (found.counts["accepted"], found.counts["duplicate"], found.counts["ignored"]) == (
        3, 1, 1)
    assert found.last_delivery_at == later
    with store._db.write() as conn:  # a later batch sees what this one stored
        assert accept_many(conn, [Accept(endpoint, "b", [], NOW)])[0].outcome == "duplicate"


class DatabaseErrors:
    """Every error the database raised while this is open, whether or not a savepoint or
    a redone batch later hid it from the caller: through the engine (``handle_error``)
    and through the bulk statements, which hand their rows to the driver past the
    engine's events (``store/bulk.py``)."""

    def __init__(self, store):
        self.engine, self.seen = store.engine, []
        self._bulk_execute = BulkStatement.execute

    def __enter__(self):
        sa.event.listen(self.engine, "handle_error", self._record)
        original, seen = self._bulk_execute, self.seen

        def execute(statement, conn, rows):
            try:
                return original(statement, conn, rows)
            except sa.exc.DBAPIError as exc:
                seen.append(type(exc).__name__)
                raise

        BulkStatement.execute = execute  # the writer thread's calls too
        return self.seen

    def __exit__(self, *exc_info):
        BulkStatement.execute = self._bulk_execute
        sa.event.remove(self.engine, "handle_error", self._record)

    def _record(self, context):
        self.seen.append(type(context.sqlalchemy_exception).__name__)


def accept_in_one_batch(store, endpoint: str, webhook_ids: list[str]) -> list[str]:
    """``store.accept_delivery`` for each id at once, every one queued behind a held
    writer before it is let go: one batch. Their outcomes, in order."""
    release = hold_the_writer(store)
    with ThreadPoolExecutor(len(webhook_ids)) as pool:
        futures = [pool.submit(store.accept_delivery, endpoint, wid, [(EVENT, [])], NOW)
                   for wid in webhook_ids]
        deadline = time.monotonic() + 10
        while store._db.writer._jobs.qsize() < len(webhook_ids):
            assert time.monotonic() < deadline, "the deliveries never reached the writer"
            time.sleep(0.001)
        release.set()
        return [f.result(10).outcome for f in futures]


def test_a_redelivery_is_deduplicated_by_the_read_not_by_the_unique_constraint(store):
    """The fast path: a webhook-id seen before (in an earlier batch or earlier in this
    one) is answered "duplicate" without ever attempting the insert. Were the batched
    dedupe broken, the UNIQUE constraint and the job-by-job redo would still end in
    "duplicate" answers; only the database error they cost shows it."""
    endpoint = endpoint_of(store)
    store.accept_delivery(endpoint, "seen", [(EVENT, [NewExecution("A", EVENT)])], NOW)
    with DatabaseErrors(store) as errors:
        alone = store.accept_delivery(endpoint, "seen", [(EVENT, [])], NOW)
        outcomes = accept_in_one_batch(store, endpoint, ["seen", "new", "new", "seen"])
    assert alone.outcome == "duplicate"
    assert outcomes[0] == outcomes[3] == "duplicate"
    assert sorted(outcomes[1:3]) == ["accepted", "duplicate"]  # whichever was queued first
    assert errors == []  # no insert was refused: the read caught every redelivery
    assert store.get_endpoint(endpoint, NOW).counts["duplicate"] == 4


def test_the_rule_sees_a_refused_insert(store):
    """The check above can fail: a delivery row inserted twice is an error it sees,
    through the engine and through a bulk statement alike."""
    endpoint = endpoint_of(store)
    row = {"id": "d1", "endpoint_id": endpoint, "webhook_id": "w", "outcome": "accepted",
           "reason": "", "run_id": None, "received_at": NOW}
    bulk = BulkStatement(deliveries.insert(), list(row))
    with DatabaseErrors(store) as errors, store.engine.begin() as conn:
        conn.execute(deliveries.insert().values(**row))
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            conn.execute(deliveries.insert().values(**{**row, "id": "d2"}))
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            bulk.execute(conn, [{**row, "id": "d3"}])
    assert errors == ["IntegrityError", "IntegrityError"]
