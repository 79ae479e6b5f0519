"""Store tests use the tiny node types of ``store_fixtures``.

``store``: the behaviour suite's store, once in memory (``incidentflow.testing``),
once on SQLite and once on PostgreSQL: the same assertions hold on all three.
``sql_store`` (tests/conftest.py): the SQL store only (SQLite and PostgreSQL), for
what is about SQL itself (the writer, set-based statements, other processes'
transactions); a test module about SQL only overrides ``store`` with it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import fresh_schema, postgres_base_url
from store_fixtures import registry

from incidentflow.registry import Registry
from incidentflow.store.port import Store
from incidentflow.store.sql import SqlStore
from incidentflow.testing import InMemoryStore


@pytest.fixture
def test_registry() -> Registry:
    return registry()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path, test_registry: Registry) -> Iterator[Store]:
    if request.param == "memory":
        yield InMemoryStore(test_registry)
        return
    if request.param == "sqlite":
        yield from _migrated(f"sqlite:///{tmp_path / 'test.db'}", test_registry)
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL tests skipped: set INCIDENTFLOW_TEST_DATABASE_URL=...")
    for url in fresh_schema(base):
        yield from _migrated(url, test_registry)


@pytest.fixture
def sqlite_store(tmp_path, test_registry: Registry) -> Iterator[SqlStore]:
    """SQLite only, for what only SQLite does (no PostgreSQL half to skip)."""
    yield from _migrated(f"sqlite:///{tmp_path / 'sqlite.db'}", test_registry)


def _migrated(url: str, test_registry: Registry) -> Iterator[SqlStore]:
    found = SqlStore(url, test_registry)
    found.migrate()
    try:
        yield found
    finally:
        found.close()
