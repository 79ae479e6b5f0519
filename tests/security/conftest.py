"""A live stack for the security proofs, shared by the package (starting it costs
seconds): the proof emulator and ``incidentflow serve`` (SQLite) as processes, with an
integration connected, a canvas applied and its trigger's signing secret set, so the
API's paths hit real objects.

Also the app in process on a real store (``settings``/``app``, with the root ``api`` and
``anon`` clients) for the edge tests, and ``signed_in_form`` for UI pages.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import ServerProcess, server_process
from reliability.canvases import (
    LOAD_CANVAS,
    MINOR,
    MIRROR_CANVAS,
    Webhook,
    api,
    apply_with_webhook,
    connect_incident_io,
)
from reliability.processes import Emulator, proof_emulator
from starlette.testclient import TestClient


@dataclass
class Stack:
    server: ServerProcess
    emulator: Emulator
    api_key: str
    webhook: Webhook  # of canvas "mirror", node "On Incident"
    sink_webhook: Webhook  # of canvas "load" (its http node points nowhere useful)

    @property
    def secrets(self) -> list[str]:
        """Every secret value this stack knows; none may ever be served back."""
        return [self.api_key, self.webhook.secret, self.sink_webhook.secret,
                self.server.token, (self.server.data_dir / "secret.key").read_text().strip()]

    def client(self, token: str | None = None) -> httpx.Client:
        return api(self.server.url, token or self.server.token)


@contextlib.contextmanager
def live_stack(work: Path) -> Iterator[Stack]:
    key = "security-key-" + secrets.token_hex(8)
    with proof_emulator(work, key) as emulator, server_process(work / "data") as server:
        with api(server.url, server.token) as client:
            connect_incident_io(client, emulator.url, key)
            mirror = apply_with_webhook(client, "mirror",
                                        MIRROR_CANVAS.replace("SEVERITY_ID", MINOR))
            load = apply_with_webhook(client, "load",
                                      LOAD_CANVAS.replace("SINK", "http://127.0.0.1:9"))
        yield Stack(server, emulator, key, mirror, load)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with live_stack(tmp_path_factory.mktemp("security")) as running:
        yield running


# -- the app in process, on a real store (SQLite and PostgreSQL), for the edge tests ------
# (header limits need a real server and parser: see test_http_edge.py)

EDGE_ADMIN_TOKEN = "ifa_edge_" + "E" * 40
EDGE_PUBLIC_URL = "https://flows.example.com"


@pytest.fixture
def test_registry():
    from incidentflow.registry import default_registry

    return default_registry()


@pytest.fixture
def settings(tmp_path: Path, database_url: str):
    from incidentflow.settings import Settings

    return Settings.from_env(
        {}, data_dir=tmp_path / "data", database_url=database_url, public_url=EDGE_PUBLIC_URL,
        admin_token=EDGE_ADMIN_TOKEN, secret_key="edge-test-secret-key",
    )


@pytest.fixture
def app(settings, store, test_registry):
    from incidentflow.emulator import create_emulator_app
    from incidentflow.web.app import create_app

    emulator = httpx.AsyncClient(transport=httpx.ASGITransport(
        app=create_emulator_app(api_keys="edge-emulator-key")))
    return create_app(settings, store=store, registry=test_registry, http=emulator,
                      start_workers=False)


def signed_in_form(app: Any) -> tuple[TestClient, str]:
    """A browser-like client of ``app`` signed in through the form, and its CSRF token."""
    client = TestClient(app, base_url=EDGE_PUBLIC_URL)
    page = client.get("/signin")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/signin", data={"token": app.state.settings.admin_token,
                                          "csrf_token": csrf, "next": "/"},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get("/canvases")
    return client, page.text.split('name="csrf_token" value="')[1].split('"')[0]
