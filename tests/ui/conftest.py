"""Fixtures for the UI: the real app on a real store, incident.io played by the emulator
in-process, and a browser-like client that signs in through the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from ui_support import ADMIN_TOKEN, EMULATOR_KEY, EMULATOR_URL, PUBLIC_URL, Browser

from incidentflow.emulator import create_emulator_app
from incidentflow.registry import Registry, default_registry
from incidentflow.settings import Settings
from incidentflow.testing import InMemoryStore
from incidentflow.web.app import create_app


@pytest.fixture
def test_registry() -> Registry:
    return default_registry()


@pytest.fixture
def store(memory_store: InMemoryStore) -> InMemoryStore:
    """The UI reads through the Store port, whose SQLite/PostgreSQL agreement is tested
    in tests/store: the store in memory is enough here."""
    return memory_store


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # Opened only by tests about processes sharing a database (``sql_store``).
    return f"sqlite:///{tmp_path / 'ui.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env(
        {}, data_dir=tmp_path / "data", database_url=database_url, public_url=PUBLIC_URL,
        admin_token=ADMIN_TOKEN, secret_key="ui-test-secret-key",
    )


@pytest.fixture
def emulator_http() -> httpx.AsyncClient:
    emulator = create_emulator_app(api_keys=EMULATOR_KEY)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator))


@pytest.fixture
def app(settings: Settings, store: Any, test_registry: Registry,
        emulator_http: httpx.AsyncClient) -> Any:
    return create_app(settings, store=store, registry=test_registry, http=emulator_http,
                      start_workers=False)


@pytest.fixture
def anon(app: Any) -> Iterator[Browser]:
    with TestClient(app, base_url="https://flows.example.com", follow_redirects=True) as client:
        yield Browser(client)


@pytest.fixture
def browser(anon: Browser) -> Browser:
    assert anon.sign_in().status_code == 200
    return anon


@pytest.fixture
def with_integration(browser: Browser) -> Browser:
    browser.get("/integrations")
    answer = browser.submit("/integrations", {
        "name": "incident", "type": "incident",
        "field-apiKey": EMULATOR_KEY, "field-baseUrl": EMULATOR_URL,
    })
    assert answer.status_code == 200 and "Integration saved." in answer.text
    return browser
