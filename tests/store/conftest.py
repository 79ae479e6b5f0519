"""Store tests use the tiny node types of ``store_fixtures``."""

from __future__ import annotations

import pytest
from store_fixtures import registry

from incidentflow.registry import Registry


@pytest.fixture
def test_registry() -> Registry:
    return registry()
