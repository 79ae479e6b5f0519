"""Shared database fixtures.

``database_url``: runs the test once on SQLite (a file in tmp_path) and once on
PostgreSQL. PostgreSQL comes from ``INCIDENTFLOW_TEST_DATABASE_URL`` or, when that is
unset and ``CI`` is set, ``postgresql+psycopg://postgres@127.0.0.1:5432/test``;
otherwise the PostgreSQL half is skipped. Each PostgreSQL test gets a fresh schema
(selected through ``search_path`` in the URL), dropped afterwards.

``store``: a migrated ``SqlStore`` on ``database_url``, using ``test_registry`` (override
that fixture in your own conftest to give the store your component catalogue).
``sql_store``: that SQL store, also where a folder made ``store`` the memory one.
``memory_store``: ``InMemoryStore`` (``incidentflow.testing``) with ``test_registry``.

    def test_something(store): ...
    def test_raw_url(database_url): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import fresh_schema, postgres_base_url
from starlette.testclient import TestClient

from incidentflow.registry import Registry
from incidentflow.store.sql import SqlStore
from incidentflow.testing import InMemoryStore

pytest_plugins = ["_logscan"]  # session-wide scan: no secret in any log line


# -- lanes of a parallel run ---------------------------------------------------------------
# `make test` spreads the tests over pytest-xdist workers (--dist loadgroup; see the
# Makefile). The tests below keep to a lane of their own, one test at a time there:
# "paced" holds the tests that assert on real time (a wait fires within a second of its
# time, a budget stops a template in time) together with the tests that load the machine
# themselves (load proofs, benchmarks, hostile templates), so that no paced test runs
# beside one of those hogs; "browser" runs one chromium at a time. The rest mostly waits
# on sockets and databases and shares the other workers.
PACED = (
    "tests/time/",
    "tests/e2e/test_time_e2e.py",
    "tests/e2e/test_expression_budgets_e2e.py",
    "tests/e2e/test_wait_kill_e2e.py",
    "tests/e2e/test_approval_e2e.py",
    "tests/reliability/",
    "tests/bench/",
    "tests/expressions/test_expression_budgets.py",
    "tests/engine/test_engine_budgets.py",
    "tests/web/test_runaway_api.py",
    "tests/ui/test_budget_previews.py",
)


def lane_of(item: pytest.Item) -> str | None:
    if item.get_closest_marker("browser"):
        return "browser"
    if item.nodeid.startswith(PACED):
        return "paced"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        lane = lane_of(item)
        if lane is not None:
            item.add_marker(pytest.mark.xdist_group(lane))



@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(
            "PostgreSQL tests skipped: set "
            "INCIDENTFLOW_TEST_DATABASE_URL=postgresql+psycopg://..."
        )
    yield from fresh_schema(base)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, for what only PostgreSQL does (LISTEN/NOTIFY, row locks
    across processes). Skipped only where no PostgreSQL is configured, never in CI."""
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL tests skipped: set INCIDENTFLOW_TEST_DATABASE_URL=...")
    yield from fresh_schema(base)


@pytest.fixture
def test_registry() -> Registry:
    """An empty catalogue; override it to declare the node types your test uses."""
    return Registry()


@pytest.fixture
def store(database_url: str, test_registry: Registry) -> Iterator[SqlStore]:
    store = SqlStore(database_url, test_registry)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def sql_store(database_url: str, test_registry: Registry) -> Iterator[SqlStore]:
    """A migrated SQL store whatever ``store`` a folder chose: for tests about SQL itself
    (in a folder whose ``store`` is the SQL one, use ``store``: this would be a second
    store on the same database)."""
    store = SqlStore(database_url, test_registry)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def memory_store(test_registry: Registry) -> InMemoryStore:
    """The store in memory (``incidentflow.testing``): where a database is not the point
    (host, engine, web and UI unit tests), a folder's conftest makes it its ``store``."""
    return InMemoryStore(test_registry)


# -- clients of an ``app`` (each folder that serves one defines its ``app`` fixture) ----

@pytest.fixture
def api(app: Any) -> Iterator[TestClient]:
    """The app, signed in with its admin token."""
    token = app.state.settings.admin_token
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def anon(app: Any) -> Iterator[TestClient]:
    """The app, without credentials."""
    with TestClient(app) as client:
        yield client
