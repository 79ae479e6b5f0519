"""store.bulk writes exactly what SQLAlchemy's own executemany writes, on both
databases: same stored text for times on SQLite (claims compare them as strings),
same JSON (``null`` for None), constants from the statement, the transaction's own
connection (a rollback undoes bulk rows too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from incidentflow.store.bulk import BulkStatement, sqlite_time
from incidentflow.store.schema import canvases, events, runs


@pytest.fixture
def store(sql_store):
    """About SQL itself: SQLite and PostgreSQL only."""
    return sql_store

NOW = datetime(2026, 11, 26, 23, 7, 44, tzinfo=UTC)
RUN = {"id": "run-1", "canvas": "c", "canvas_version": 1, "trigger_node": "T",
       "root_event_id": "e-0", "state": "running", "pending": 1, "created_at": NOW,
       "finished_at": None}
CANVAS = {"name": "c", "current_version": 1, "created_at": NOW, "updated_at": NOW}
COLUMNS = ("id", "run_id", "node", "execution_id", "channel", "type", "timestamp", "data",
           "created_at")


def _event(number: int, created_at: datetime, data: object) -> dict[str, object]:
    return {"id": f"e-{number}", "run_id": "run-1", "node": "N", "execution_id": None,
            "channel": "default", "type": "t", "timestamp": "2026-11-26T23:07:44Z",
            "data": data, "created_at": created_at}


def _stored(store, ids: list[str]) -> list[tuple]:
    with store._db.engine.connect() as conn:
        raw = sa.select(sa.cast(events.c.created_at, sa.String), sa.cast(events.c.data, sa.Text),
                        events.c.created_at).where(events.c.id.in_(ids)).order_by(events.c.id)
        return [tuple(row) for row in conn.execute(raw)]


@pytest.mark.parametrize("created_at", [
    NOW,                                                    # no microseconds
    NOW.replace(microsecond=5),
    NOW.astimezone(timezone(timedelta(hours=-5))),          # another zone: stored as UTC
])
@pytest.mark.parametrize("data", [None, {}, {"a": [1, "ü"]}, "text", []])
def test_bulk_rows_equal_sqlalchemy_rows(store, created_at, data):
    with store._db.write() as conn:
        conn.execute(canvases.insert(), CANVAS)
        conn.execute(runs.insert(), RUN)
        conn.execute(events.insert(), [_event(1, created_at, data)])
        BulkStatement(events.insert(), COLUMNS).execute(conn, [_event(2, created_at, data)])
    by_sqlalchemy, by_bulk = _stored(store, ["e-1", "e-2"])
    assert by_bulk == by_sqlalchemy
    assert by_bulk[2] == created_at  # and it reads back as the same instant, aware


def test_statement_constants_and_a_missing_key(store):
    statement = BulkStatement(
        runs.update().where(runs.c.id == sa.bindparam("b_run")).values(state="succeeded")
    )
    with store._db.write() as conn:
        conn.execute(canvases.insert(), CANVAS)
        conn.execute(runs.insert(), RUN)
        statement.execute(conn, [{"b_run": "run-1"}])
    with store._db.read() as conn:
        assert conn.scalar(sa.select(runs.c.state)) == "succeeded"
    with pytest.raises(KeyError), store._db.write() as conn:
        statement.execute(conn, [{"run": "run-1"}])


def test_rolled_back_with_its_transaction(store):
    with pytest.raises(RuntimeError), store._db.write() as conn:
        conn.execute(canvases.insert(), CANVAS)
        conn.execute(runs.insert(), RUN)
        BulkStatement(events.insert(), COLUMNS).execute(conn, [_event(1, NOW, None)])
        raise RuntimeError("the batch failed")
    with store._db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(events)) == 0


def test_sqlite_time_refuses_naive_times():
    with pytest.raises(ValueError, match="naive"):
        sqlite_time(datetime(2026, 1, 1))
    assert sqlite_time(None) is None


def test_the_same_data_object_in_two_rows_is_stored_twice_alike(store):
    """An event passed on unchanged (a noop's) is the very object of its delivery's
    row; its JSON is converted once and reused (store/bulk.py), and both rows, and a
    row of an equal but different object, read back the same."""
    data = {"incident": {"id": "01", "name": "ü" * 3}, "event_type": "x"}
    with store._db.write() as conn:
        conn.execute(canvases.insert(), CANVAS)
        conn.execute(runs.insert(), RUN)
        insert = BulkStatement(events.insert(), COLUMNS)
        insert.execute(conn, [_event(1, NOW, data)])
        BulkStatement(events.insert(), COLUMNS).execute(conn, [_event(2, NOW, data)])
        insert.execute(conn, [_event(3, NOW, dict(data)), _event(4, NOW, data)])
    first, second, equal, again = _stored(store, ["e-1", "e-2", "e-3", "e-4"])
    assert first == second == equal == again
    with store._db.engine.connect() as conn:
        read = conn.execute(sa.select(events.c.data).where(events.c.id == "e-2")).scalar_one()
    assert read == data


def test_a_reused_conversion_belongs_to_its_object_and_dialect():
    from incidentflow.store import bulk

    calls: list[object] = []

    def processor(value):
        calls.append(value)
        return f"text of {value!r}"

    data = {"a": 1}
    for dialect in ("one", "two"):
        convert = bulk._json(processor, dialect)
        assert convert(data) == convert(data) == "text of {'a': 1}"
        assert convert(dict(data)) == "text of {'a': 1}"
    assert calls.count(data) == 2 + 2  # per dialect: the object once, its equal copy once
