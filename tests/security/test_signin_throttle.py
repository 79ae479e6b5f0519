"""Sign-in throttling: after too many wrong tokens a client gets 429 with Retry-After
(even with the right token), on the UI form and the API alike, and recovers once its
failures leave the window."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_until
from starlette.testclient import TestClient

from incidentflow.settings import Settings
from incidentflow.web.throttle import MAX_CLIENTS, SigninThrottle

ATTEMPTS = 3
WINDOW = 1.5


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The count lives in the process, not the database: one database is enough."""
    return f"sqlite:///{tmp_path / 'throttle.db'}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, signin_attempts=ATTEMPTS, signin_window_seconds=WINDOW)


def form_csrf(client: TestClient) -> str:
    page = client.get("/signin")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def sign_in(client: TestClient, csrf: str, token: str) -> Any:
    return client.post("/signin", data={"token": token, "csrf_token": csrf, "next": "/"},
                       follow_redirects=False)


def test_the_ui_form_throttles_then_recovers(app: Any) -> None:
    admin = app.state.settings.admin_token
    with TestClient(app, base_url="https://flows.example.com") as client:
        csrf = form_csrf(client)
        for _ in range(ATTEMPTS + 1):  # an empty form is not a guess
            assert sign_in(client, csrf, "").status_code == 401
        for _ in range(ATTEMPTS):
            assert sign_in(client, csrf, "ifa_wrong_guess").status_code == 401
        refused = sign_in(client, csrf, admin)  # even the right token waits now
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= WINDOW + 1
        assert "Too many failed sign-ins" in refused.text
        assert "incidentflow_session" not in refused.headers.get("set-cookie", "")
        signed_in = wait_until(lambda: sign_in(client, csrf, admin).status_code == 303,
                               timeout=WINDOW + 5, interval=0.2, what="the window to pass")
        assert signed_in


def test_the_api_throttles_wrong_bearer_tokens_then_recovers(app: Any) -> None:
    admin = {"Authorization": f"Bearer {app.state.settings.admin_token}"}
    wrong = {"Authorization": "Bearer ifa_wrong_guess"}
    with TestClient(app) as client:
        assert client.get("/api/v1/canvases").status_code == 401  # no token: not a guess
        for _ in range(ATTEMPTS):
            assert client.get("/api/v1/canvases", headers=wrong).status_code == 401
        refused = client.get("/api/v1/canvases", headers=admin)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "too many failed sign-in attempts" in refused.json()["error"]
        assert refused.headers["x-content-type-options"] == "nosniff"
        wait_until(lambda: client.get("/api/v1/canvases", headers=admin).status_code == 200,
                   timeout=WINDOW + 5, interval=0.2, what="the window to pass")
        # success cleared the count: a fresh wrong token is a 401 again, not a 429
        assert client.get("/api/v1/canvases", headers=wrong).status_code == 401


def test_ui_and_api_failures_share_one_count(app: Any) -> None:
    wrong = {"Authorization": "Bearer ifa_wrong_guess"}
    with TestClient(app, base_url="https://flows.example.com") as client:
        csrf = form_csrf(client)
        for _ in range(ATTEMPTS - 1):
            assert sign_in(client, csrf, "ifa_wrong_guess").status_code == 401
        assert client.get("/api/v1/canvases", headers=wrong).status_code == 401
        assert sign_in(client, csrf, "ifa_wrong_guess").status_code == 429


# -- the counting itself, on a clock we move --------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides() -> None:
    clock = Clock()
    throttle = SigninThrottle(attempts=3, window_seconds=60, clock=clock)
    for step in range(3):
        assert throttle.retry_after("a") is None
        throttle.failed("a")
        clock.now += 10 if step < 2 else 0
    assert throttle.retry_after("a") == 40  # the first failure (t=1000) leaves at 1060
    assert throttle.retry_after("b") is None  # per client
    clock.now += 40
    assert throttle.retry_after("a") is None  # one attempt is free again...
    throttle.failed("a")
    assert throttle.retry_after("a") == 10  # ...and the next oldest (t=1010) holds it
    throttle.succeeded("a")
    assert throttle.retry_after("a") is None


def test_memory_is_bounded_by_forgetting_expired_clients_first() -> None:
    clock = Clock()
    throttle = SigninThrottle(attempts=1, window_seconds=60, clock=clock)
    throttle.failed("expired")
    clock.now += 120
    throttle.failed("recent")
    for n in range(MAX_CLIENTS - 2):
        throttle.failed(f"client-{n}")
    assert len(throttle._failures) == MAX_CLIENTS
    throttle.failed("newcomer")  # full: the expired one goes, then the oldest to 90 %
    assert len(throttle._failures) <= MAX_CLIENTS * 9 // 10 + 1
    assert "expired" not in throttle._failures and "recent" not in throttle._failures
    assert throttle.retry_after("newcomer") is not None
    assert throttle.retry_after(f"client-{MAX_CLIENTS - 3}") is not None  # the latest stay
    for n in range(5 * MAX_CLIENTS):
        throttle.failed(f"flood-{n}")
    assert len(throttle._failures) <= MAX_CLIENTS
