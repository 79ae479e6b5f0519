"""A database that cannot be reached is ``errors.StoreUnavailable`` for the store's
callers, on the read path and through the group-commit writer alike; the driver's own
exception stays attached as the cause, for the log."""

from __future__ import annotations

import pytest
from store_fixtures import NOW

from incidentflow.errors import NotFound, StoreUnavailable
from incidentflow.store.sql import SqlStore


@pytest.fixture
def store(sql_store):
    """About SQL itself: SQLite and PostgreSQL only."""
    return sql_store

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-directory-incidentflow/test.db",
    # Port 1 on the loopback: refused at once, nothing listens there.
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def unreachable(request: pytest.FixtureRequest, test_registry):
    store = SqlStore(UNREACHABLE[request.param], test_registry)
    yield store
    store.close()


def test_a_read_of_an_unreachable_database_raises_store_unavailable(unreachable) -> None:
    with pytest.raises(StoreUnavailable) as raised:
        unreachable.ping()
    assert raised.value.__cause__ is not None  # the driver's error, for the log


def test_a_write_through_the_writer_raises_store_unavailable(unreachable) -> None:
    with pytest.raises(StoreUnavailable):
        unreachable.claim("w1", NOW, 30, 10)
    with pytest.raises(StoreUnavailable):
        unreachable.record_rejection("no-such-endpoint", "bad signature", NOW)


def test_an_error_of_the_data_is_not_an_outage(store) -> None:
    with pytest.raises(NotFound):  # a reachable database that says no: not translated
        store.record_rejection("no-such-endpoint", "bad signature", NOW)
