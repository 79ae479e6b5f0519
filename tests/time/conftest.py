"""Time tests use the real catalogue (start, wait, schedule, noop, http)."""

from __future__ import annotations

import pytest

from incidentflow.registry import Registry, default_registry


@pytest.fixture
def test_registry() -> Registry:
    return default_registry()
