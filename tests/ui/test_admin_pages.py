"""Deleting canvases and integrations (with a confirmation step), API tokens, browser
sessions, and sign-out holding across processes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from ui_support import ADMIN_TOKEN, MANUAL, MIRROR, Browser, apply

from incidentflow.registry import default_registry
from incidentflow.settings import Settings
from incidentflow.store.sql import SqlStore
from incidentflow.web.app import create_app
from incidentflow.web.ui.session import COOKIE_NAME


@pytest.fixture
def store(sql_store):
    """Sign-out must hold in another process on the same database: the SQL store."""
    return sql_store

# -- deleting a canvas ----------------------------------------------------------------------


def test_deleting_a_canvas_asks_first_then_deletes(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    confirm = with_integration.get("/canvases/mirror/delete")
    assert confirm.status_code == 200
    assert "Delete the canvas “mirror”?" in confirm.text
    assert "webhook URLs stop working" in confirm.text and "On Incident" in confirm.text
    assert with_integration.get("/canvases/mirror").status_code == 200  # asking deleted nothing
    with_integration.get("/canvases/mirror/delete")
    done = with_integration.submit("/canvases/mirror/delete", {})
    assert "Canvas deleted." in done.text
    assert with_integration.get("/canvases/mirror").status_code == 404


def test_deleting_a_canvas_needs_the_csrf_token(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    refused = with_integration.client.post("/canvases/mirror/delete", data={"csrf_token": "x"})
    assert refused.status_code == 403
    assert with_integration.get("/canvases/mirror").status_code == 200


# -- deleting an integration --------------------------------------------------------------


def test_deleting_an_integration_names_the_canvases_that_use_it(
    with_integration: Browser,
) -> None:
    apply(with_integration, MANUAL)
    confirm = with_integration.get("/integrations/incident/delete").text
    assert "These canvases use it" in confirm and "manual" in confirm
    done = with_integration.submit("/integrations/incident/delete", {})
    assert "Integration deleted." in done.text
    assert 'data-integration-status="incident"' not in done.text


def test_deleting_an_unknown_integration_is_a_404(browser: Browser) -> None:
    assert browser.get("/integrations/nope/delete").status_code == 404


# -- API tokens ------------------------------------------------------------------------------


def test_a_token_is_shown_once_listed_and_revoked(browser: Browser, app: Any) -> None:
    browser.get("/tokens")
    created = browser.submit("/tokens", {"name": "ci deploy"})
    assert created.headers["cache-control"] == "no-store"
    token = re.search(r'id="new-token" type="text" readonly value="(ift_[^"]+)"', created.text)
    assert token, created.text[:3000]
    api = TestClient(app, base_url="https://flows.example.com")
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert api.get("/api/v1/canvases", headers=bearer).status_code == 200
    listing = browser.get("/tokens").text
    assert "ci deploy" in listing and token.group(1) not in listing  # never shown again
    row = re.search(r'data-token="([^"]+)"', listing)
    assert row
    token_id = row.group(1)
    confirm = browser.get(f"/tokens/{token_id}/revoke").text
    assert "Revoke the API token “ci deploy”?" in confirm
    revoked = browser.submit(f"/tokens/{token_id}/revoke", {})
    assert "refused everywhere" in revoked.text and 'badge bad">revoked' in revoked.text
    assert api.get("/api/v1/canvases", headers=bearer).status_code == 401


def test_a_token_without_a_name_is_explained_at_the_field(browser: Browser) -> None:
    browser.get("/tokens")
    answer = browser.submit("/tokens", {"name": "  "})
    assert answer.status_code == 422
    assert re.search(r'aria-describedby="token-name-help token-name-error" aria-invalid="true"',
                     answer.text)
    assert re.search(r'id="token-name-error">[^<]*required', answer.text)


def test_browser_sessions_are_listed_apart_and_can_be_ended(browser: Browser,
                                                           app: Any) -> None:
    other = Browser(TestClient(app, base_url="https://flows.example.com"))
    assert other.sign_in().status_code == 200
    page = browser.get("/tokens").text
    sessions = re.findall(r'data-session="([^"]+)"', page)
    assert len(sessions) == 2 and "this browser" in page
    assert not re.findall(r'data-token="', page)  # sessions are not API tokens
    mine = browser.client.cookies.get(COOKIE_NAME)
    theirs = next(s for s in sessions if s != _sid_hint(mine))
    browser.get(f"/tokens/{theirs}/revoke")
    browser.submit(f"/tokens/{theirs}/revoke", {})
    assert other.client.get("/canvases", follow_redirects=False).status_code == 303
    assert browser.client.get("/canvases", follow_redirects=False).status_code == 200


def _sid_hint(cookie: str) -> str:
    import base64
    import json

    body = cookie.rsplit(".", 1)[0]
    return str(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["sid"])


# -- sign-out in one process holds in another ------------------------------------------------


def test_sign_out_holds_in_another_process_on_the_same_database(
    browser: Browser, settings: Settings, tmp_path: Path
) -> None:
    kept = browser.client.cookies.get(COOKIE_NAME)
    # A second app on the same database: its own settings object, store and caches.
    twin_settings = Settings.from_env(
        {}, data_dir=tmp_path / "twin", database_url=settings.database_url,
        public_url=settings.public_url, admin_token=ADMIN_TOKEN,
        secret_key=settings.secret_key,
    )
    twin_store = SqlStore(settings.database_url, default_registry())
    twin = create_app(twin_settings, store=twin_store, http=httpx.AsyncClient(),
                      start_workers=False)
    with TestClient(twin, base_url="https://flows.example.com") as client:
        client.cookies.set(COOKIE_NAME, kept, domain="flows.example.com")
        assert client.get("/canvases", follow_redirects=False).status_code == 200
        browser.get("/canvases")
        browser.submit("/signout", {})
        # the twin checked this session moments ago; a restart of it must refuse at once
        restarted = create_app(twin_settings, store=twin_store, http=httpx.AsyncClient(),
                               start_workers=False)
        with TestClient(restarted, base_url="https://flows.example.com") as fresh:
            fresh.cookies.set(COOKIE_NAME, kept, domain="flows.example.com")
            assert fresh.get("/canvases", follow_redirects=False).status_code == 303
    twin_store.close()
