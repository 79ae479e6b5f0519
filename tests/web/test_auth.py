"""Every management route needs the admin token; health and webhooks are open."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers import api_operations
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from incidentflow.settings import Settings
from incidentflow.web.api import api_routes
from incidentflow.web.auth import AdminTokenVerifier, authenticate, bearer_token
from incidentflow.web.openapi import API_PREFIX, openapi_document

from .conftest import ADMIN_TOKEN


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this module tests the web layer; the store's own tests cover both."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every route is tried with the same wrong token from one client, more often than
    sign-in throttling allows (it is tested in tests/security/test_signin_throttle.py)."""
    return replace(settings, signin_attempts=10_000)


def test_the_document_lists_every_api_route(app: Starlette) -> None:
    routes = api_routes(app.state.host)
    served = {
        (method, API_PREFIX + route.path)
        for route in routes if isinstance(route, Route)
        for method in (route.methods or ()) if method != "HEAD"
    }
    documented = {
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items() if path.startswith(API_PREFIX)
        for method in item
    }
    assert served == documented


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {ADMIN_TOKEN}",
                                    "Bearer", f"Bearer {ADMIN_TOKEN}x"])
def test_every_api_route_refuses_without_the_right_token(anon: TestClient,
                                                         header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in api_operations():
        response = anon.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.json() == {"error": "missing or invalid bearer token"}
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_api_paths_also_need_the_token(anon: TestClient) -> None:
    assert anon.get("/api/v1/nothing-here").status_code == 401


def test_the_right_token_gets_through(api: TestClient) -> None:
    response = api.get("/api/v1/canvases")
    assert response.status_code == 200
    assert response.json() == {"canvases": []}


def test_unknown_api_path_with_token_is_json_404(api: TestClient) -> None:
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert "error" in response.json()


def test_healthz_is_open(anon: TestClient) -> None:
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    assert bearer_token("Bearer ") is None
    assert bearer_token("Token abc") is None
    assert bearer_token(None) is None


def test_verifiers_are_asked_in_turn() -> None:
    class Fixed:
        def verify(self, token: str):  # a future API-token verifier
            from incidentflow.web.auth import Principal

            return Principal("ci", "api-token") if token == "ci-token" else None

    verifiers = [AdminTokenVerifier("admin-secret"), Fixed()]
    assert authenticate(verifiers, "Bearer admin-secret").kind == "admin"
    assert authenticate(verifiers, "Bearer ci-token").name == "ci"
    assert authenticate(verifiers, "Bearer other") is None


def test_an_empty_admin_token_accepts_nothing() -> None:
    assert AdminTokenVerifier("").verify("") is None
