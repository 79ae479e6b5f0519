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
from pathlib import Path
from typing import Any

import pytest
from helpers import fresh_schema, postgres_base_url
from parallel import start_rank, work_unit
from starlette.testclient import TestClient

from incidentflow.registry import Registry
from incidentflow.settings import Settings
from incidentflow.store.sql import SqlStore
from incidentflow.testing import InMemoryStore

pytest_plugins = ["_logscan"]  # session-wide scan: no secret in any log line

PUBLIC_URL = "https://flows.example.com"  # the public address of the apps tests build


# -- a parallel run (`make test`): units of work in tests/parallel.py ----------------------
@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadscope":
        return None  # another --dist asked for: xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class Lanes(LoadScopeScheduling):  # largest units first (xdist's reorder)
        """xdist's --dist loadscope, whose scopes are ``parallel.work_unit``."""

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if not getattr(self, "ranked", False):  # the queue is complete by now
                self.ranked = True
                for unit in sorted(self.workqueue, key=start_rank):
                    self.workqueue.move_to_end(unit)
            super()._assign_work_unit(node)

    return Lanes(config, log)


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
def admin_token() -> str:
    """The admin token of ``settings``; a folder's conftest may name its own."""
    return "ifa_test_" + "A" * 32


@pytest.fixture
def settings(tmp_path: Path, database_url: str, admin_token: str) -> Settings:
    """The settings of an app built in process (web, UI, operations): data under
    tmp_path, ``PUBLIC_URL``, ``admin_token``. A module that needs other values replaces
    them: ``def settings(settings): return dataclasses.replace(settings, ...)``."""
    return Settings.from_env(
        {}, data_dir=tmp_path / "data", database_url=database_url, public_url=PUBLIC_URL,
        admin_token=admin_token, secret_key="test-secret-key-for-encryption",
    )


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
