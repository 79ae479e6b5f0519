"""Engine tests use the tiny components of ``engine_fixtures``."""

from __future__ import annotations

import pytest
from engine_fixtures import Flaky, Workers, registry

from incidentflow.registry import Registry


@pytest.fixture
def test_registry() -> Registry:
    return registry()


@pytest.fixture
def workers(store, tmp_path) -> Workers:
    Flaky.seen.clear()
    return Workers(store, tmp_path)
