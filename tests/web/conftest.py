"""Fixtures for the web layer: an app on the store in memory, incident.io played by the emulator.

``api`` is a Starlette TestClient carrying the admin token; ``anon`` carries none.
The emulator is reached in-process through ``httpx.ASGITransport`` at EMULATOR_URL.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import signed_headers  # noqa: F401  (the suite's one signer, re-exported)
from starlette.testclient import TestClient

from incidentflow.emulator import create_emulator_app
from incidentflow.registry import Registry, default_registry
from incidentflow.settings import Settings
from incidentflow.testing import InMemoryStore
from incidentflow.web.app import create_app

ADMIN_TOKEN = "ifa_test_" + "A" * 32
EMULATOR_KEY = "emulator-test-key"
EMULATOR_URL = "http://emulator.test"
PUBLIC_URL = "https://flows.example.com"

MANUAL_CANVAS = """
name: manual
nodes:
  - {name: Start, type: start}
  - name: Only majors
    type: filter
    configuration: {expression: "root.data.severity == 'major'"}
edges:
  - {from: Start, to: Only majors}
"""

WEBHOOK_CANVAS = """
name: hooks
nodes:
  - {name: On Incident, type: incident.onIncident}
  - {name: Done, type: noop}
edges:
  - {from: On Incident, to: Done}
"""


def new_signing_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()




@pytest.fixture
def test_registry() -> Registry:
    return default_registry()


@pytest.fixture
def store(memory_store: InMemoryStore) -> InMemoryStore:
    """The web layer reads and writes through the Store port, whose SQLite/PostgreSQL
    agreement is the store suite's (tests/store): memory is enough here."""
    return memory_store


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Not opened while ``store`` is the memory one (the app is given the store); a test
    module about SQL overrides ``store`` with ``sql_store``, which opens it."""
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
def admin_token() -> str:
    return ADMIN_TOKEN


@pytest.fixture
def emulator_http() -> Iterator[httpx.AsyncClient]:
    emulator = create_emulator_app(api_keys=EMULATOR_KEY)
    yield httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator))


@pytest.fixture
def app(settings: Settings, store: Any, test_registry: Registry,
        emulator_http: httpx.AsyncClient) -> Any:
    return create_app(settings, store=store, registry=test_registry, http=emulator_http,
                      start_workers=False)




def put_yaml(client: TestClient, name: str, text: str) -> httpx.Response:
    return client.put(f"/api/v1/canvases/{name}", content=text,
                      headers={"Content-Type": "application/yaml"})


@pytest.fixture
def webhook(api: TestClient) -> dict[str, str]:
    """The hooks canvas applied with a signing secret set: {url, path, secret}."""
    assert put_yaml(api, "hooks", WEBHOOK_CANVAS).status_code == 200
    secret = new_signing_secret()
    answer = api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
                      json={"webhookSigningSecret": secret})
    assert answer.status_code == 200, answer.text
    url = answer.json()["live"]["webhookUrl"]
    return {"url": url, "path": url.removeprefix(PUBLIC_URL), "secret": secret}
