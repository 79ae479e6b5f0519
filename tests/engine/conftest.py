"""Engine tests use the tiny components of ``engine_fixtures`` and the store in memory
(the worker's use of the database is the store suite's business, tests/store); the
tests about other processes (LISTEN/NOTIFY, worker processes) use the SQL store."""

from __future__ import annotations

import pytest
from engine_fixtures import Flaky, Workers, registry

from incidentflow.registry import Registry
from incidentflow.testing import InMemoryStore


@pytest.fixture
def test_registry() -> Registry:
    return registry()


@pytest.fixture
def store(memory_store: InMemoryStore) -> InMemoryStore:
    return memory_store


@pytest.fixture
def workers(store, tmp_path) -> Workers:
    Flaky.seen.clear()
    return Workers(store, tmp_path)
