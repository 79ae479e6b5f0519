"""Every management route under /api/v1 refuses a missing or wrong token with 401.

The routes are read from the app itself, so a route added later is covered without
editing this file. A revoked API token is refused everywhere too.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from incidentflow.registry import default_registry
from incidentflow.settings import Settings
from incidentflow.store.sql import SqlStore
from incidentflow.web.app import create_app

ADMIN = "ifa_routes_" + "C" * 32
WRONG_HEADERS = {
    "no header": {},
    "wrong token": {"Authorization": "Bearer ifa_wrong_" + "D" * 32},
    "empty bearer": {"Authorization": "Bearer "},
    "token without scheme": {"Authorization": ADMIN},
    "basic auth with the token": {
        "Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN}".encode()).decode()},
    "token with a suffix": {"Authorization": f"Bearer {ADMIN}x"},
    "token prefix only": {"Authorization": f"Bearer {ADMIN[:-1]}"},
    "token in the query instead": {},  # see api_paths: ?token= must not count
}


@pytest.fixture
def app(tmp_path: Path):
    settings = Settings.from_env({}, data_dir=tmp_path / "data",
                                 database_url=f"sqlite:///{tmp_path / 'auth.db'}",
                                 admin_token=ADMIN, secret_key="routes-test-secret-key",
                                 # one client tries every route: more than throttling allows
                                 signin_attempts=10_000)
    store = SqlStore(settings.database_url, default_registry())
    store.migrate()
    yield create_app(settings, store=store, start_workers=False)
    store.close()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as running:
        yield running


def api_routes(app: Starlette) -> list[tuple[str, str]]:
    """(method, concrete path) of every route mounted under /api/v1."""
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    inner: Any = mount.app
    while not hasattr(inner, "routes"):  # the auth middleware wraps the API app
        inner = inner.app
    found: list[tuple[str, str]] = []
    for route in inner.routes:
        assert isinstance(route, Route)
        path = "/api/v1" + re.sub(r"\{[^}]+\}", "x", route.path)
        found.extend((method, path) for method in sorted(route.methods or ()) if method != "HEAD")
    return found


def test_the_route_table_is_read(app) -> None:
    routes = api_routes(app)
    assert ("GET", "/api/v1/canvases") in routes and ("PUT", "/api/v1/canvases/x") in routes
    assert len(routes) >= 15


@pytest.mark.parametrize("case", sorted(WRONG_HEADERS))
def test_every_route_refuses_a_missing_or_wrong_token(app, client: TestClient,
                                                      case: str) -> None:
    refused = []
    for method, path in api_routes(app):
        url = path + (f"?token={ADMIN}" if case == "token in the query instead" else "")
        answer = client.request(method, url, headers=WRONG_HEADERS[case], json={})
        if answer.status_code != 401 or ADMIN in answer.text:
            refused.append((method, path, answer.status_code))
    assert refused == []


def test_the_admin_token_is_accepted(client: TestClient) -> None:
    answer = client.get("/api/v1/canvases", headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 200


def test_a_revoked_api_token_is_refused_everywhere(app, client: TestClient) -> None:
    if ("POST", "/api/v1/tokens") not in api_routes(app):
        pytest.skip("no POST /api/v1/tokens route yet")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    created = client.post("/api/v1/tokens", json={"name": "ci"}, headers=admin)
    assert created.status_code == 201, created.text
    token, token_id = created.json()["token"], created.json()["id"]
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/canvases", headers=mine).status_code == 200
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=admin).status_code == 200
    still_open = [(m, p, a.status_code) for m, p in api_routes(app)
                  if (a := client.request(m, p, headers=mine, json={})).status_code != 401]
    assert still_open == []
