"""Fixtures for the UI: the real app on a real store, incident.io played by the emulator
in-process, and a browser-like client that signs in through the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from ui_support import ADMIN_TOKEN, EMULATOR_KEY, EMULATOR_URL, Browser

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
def admin_token() -> str:
    return ADMIN_TOKEN


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


# -- the shared browser scenario: incidentflow and the emulator as real processes ----------
# (module scope: each browser test module gets its own pair; see browser_support.py)

@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from browser_support import EMULATOR_KEY, TOKEN, require_chromium
    from helpers import free_port
    from servers import cli, process

    require_chromium()
    logs = tmp_path_factory.mktemp("logs")
    emulator_port, port = free_port(), free_port()
    emulator = f"http://127.0.0.1:{emulator_port}"
    base = f"http://127.0.0.1:{port}"
    env = {
        "INCIDENTFLOW_ADMIN_TOKEN": TOKEN,
        "INCIDENTFLOW_SECRET_KEY": "browser-test-secret-key",
        "INCIDENTFLOW_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "INCIDENTFLOW_PUBLIC_URL": base,
    }
    with (
        process([*cli(), "emulator", "--port", str(emulator_port), "--api-key", EMULATOR_KEY],
                f"{emulator}/_emulator/faults", {}, logs / "emulator.log"),
        process([*cli(), "serve", "--port", str(port)], f"{base}/healthz", env,
                logs / "server.log"),
    ):
        yield {"base": base, "emulator": emulator}


@pytest.fixture(scope="module")
def csp_violations() -> list[str]:
    return []


@pytest.fixture(scope="module")
def browser_context(servers: dict[str, str], csp_violations: list[str]) -> Iterator[Any]:
    from browser_support import REPORT_CSP_VIOLATIONS, launch

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 860},
                                      base_url=servers["base"])
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", lambda message: csp_violations.append(message.text)
                   if "CSP violation" in message.text else None)
        context.grant_permissions(["clipboard-read", "clipboard-write"],
                                  origin=servers["base"])
        context.set_default_timeout(10_000)
        yield context
        context.close()
        browser.close()
