"""API tokens: shown once, stored hashed, accepted by the API and the UI sign-in,
refused everywhere once revoked."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from helpers import api_operations
from starlette.testclient import TestClient

from incidentflow.settings import Settings
from incidentflow.store.tokens import api_tokens, hash_token
from incidentflow.web.ui import session as ui_session

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Wrong tokens are tried on every route from one client, more often than sign-in
    throttling allows (it is tested in tests/security/test_signin_throttle.py)."""
    return replace(settings, signin_attempts=10_000)


def create(api: TestClient, name: str = "ci") -> dict:
    response = api.post("/api/v1/tokens", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


# -- store -----------------------------------------------------------------------------


def test_only_the_digest_is_stored(store):
    token = "ift_" + "x" * 43
    record = store.create_token("ci", hash_token(token), NOW)
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(api_tokens)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(tuple(stored))
    assert store.active_token(hash_token(token)) == record
    store.revoke_token(record.id, NOW)
    assert store.active_token(hash_token(token)) is None
    [listed] = store.list_tokens()
    assert listed.revoked and listed.revoked_at == NOW


# -- API ---------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_works_as_bearer(api, anon):
    created = create(api)
    token = created["token"]
    assert token.startswith("ift_") and len(token) > 40
    assert created["revoked"] is False and created["lastUsedAt"] is None

    listed = api.get("/api/v1/tokens")
    assert token not in listed.text
    assert [t["name"] for t in listed.json()["tokens"]] == ["ci"]

    ok = anon.get("/api/v1/canvases", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    [after] = api.get("/api/v1/tokens").json()["tokens"]
    assert after["lastUsedAt"] is not None


def test_missing_wrong_and_revoked_tokens_get_401_on_every_route(api, anon):
    token = create(api)
    token_id = token["id"]
    assert api.delete(f"/api/v1/tokens/{token_id}").json()["revoked"] is True
    headers_list = [
        {},
        {"Authorization": "Bearer ift_" + "0" * 43},  # well-formed, unknown
        {"Authorization": f"Bearer {token['token']}x"},
        {"Authorization": f"Bearer {token['token']}"},  # revoked
    ]
    for headers in headers_list:
        for method, path in api_operations():
            response = anon.request(method, path, headers=headers, json={"name": "x"})
            assert response.status_code == 401, (headers, method, path)


def test_revoking_twice_keeps_the_first_time_and_unknown_is_404(api):
    token_id = create(api)["id"]
    first = api.delete(f"/api/v1/tokens/{token_id}").json()["revokedAt"]
    assert api.delete(f"/api/v1/tokens/{token_id}").json()["revokedAt"] == first
    assert api.delete("/api/v1/tokens/nope").status_code == 404


@pytest.mark.parametrize(("body", "status"), [({}, 422), ({"name": "  "}, 422),
                                              ({"name": 5}, 422), ({"name": "x" * 201}, 422)])
def test_a_token_needs_a_name(api, body, status):
    response = api.post("/api/v1/tokens", json=body)
    assert response.status_code == status
    assert response.json()["problems"][0]["field"] == "name"


def test_browser_sessions_are_not_listed_as_api_tokens(api, app):
    create(api, "ci")
    codec = ui_session.SessionCodec(app.state.settings, app.state.host.store)
    codec.sign_in(ui_session.new_anonymous(), "admin")
    names = [token["name"] for token in api.get("/api/v1/tokens").json()["tokens"]]
    assert names == ["ci"]


def test_malformed_token_request_is_400(api):
    assert api.post("/api/v1/tokens", content=b"{nope").status_code == 400


# -- UI sign-in ----------------------------------------------------------------------------


def test_ui_sign_in_accepts_an_api_token_until_it_is_revoked(api, app, monkeypatch):
    monkeypatch.setattr(ui_session, "LIVENESS_SECONDS", 0.0)
    settings = app.state.settings
    created = create(api, "laptop")
    who = ui_session.authenticate(settings, created["token"])
    assert who == f"token:{created['id']}"
    assert ui_session.authenticate(settings, "ift_" + "0" * 43) is None
    assert ui_session.authenticate(settings, "") is None

    codec = ui_session.SessionCodec(settings)
    cookie = codec.encode(codec.sign_in(ui_session.new_anonymous(), who))
    assert codec.decode(cookie) is not None

    api.delete(f"/api/v1/tokens/{created['id']}")
    assert codec.decode(cookie) is None  # the session ends with its token
    assert ui_session.authenticate(settings, created["token"]) is None


def test_ui_sign_in_form_with_an_api_token(api, app):
    token = create(api, "browser")["token"]
    # the public URL is https, so the session cookie is Secure: browse over https
    with TestClient(app, base_url="https://flows.example.com") as browser:
        page = browser.get("/signin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text[:500]
        response = browser.post("/signin", data={"token": token, "csrf_token": csrf.group(1)},
                                follow_redirects=False)
        assert response.status_code in (302, 303), response.text[:300]
        assert browser.get("/canvases", follow_redirects=False).status_code == 200
