"""Fixtures for the operations surface: an app on a real store (SQLite and PostgreSQL),
the default node catalogue, no workers (tests drain work explicitly)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ops_support import ADMIN_TOKEN

from incidentflow.registry import Registry, default_registry
from incidentflow.settings import Settings
from incidentflow.web.app import create_app


@pytest.fixture
def test_registry() -> Registry:
    return default_registry()


@pytest.fixture
def admin_token() -> str:
    return ADMIN_TOKEN


@pytest.fixture
def app(settings: Settings, store: Any, test_registry: Registry) -> Any:
    return create_app(settings, store=store, registry=test_registry,
                      http=httpx.AsyncClient(), start_workers=False, retention_days=0)
