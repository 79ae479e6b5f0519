"""Every answer carries the security headers: pages, static files, the API, webhooks,
health, and errors of every kind (401, 404, 405, 413, 422, 431, 500)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from incidentflow.web.headers import CONTENT_SECURITY_POLICY

from .conftest import signed_in_form

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The headers are the web layer's; one database is enough (the 500 case drops a
    table of it)."""
    return f"sqlite:///{tmp_path / 'headers.db'}"


def assert_secure(response: Any) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    # set once, not twice
    assert response.headers.get_list("x-frame-options") == ["DENY"]


def test_the_policy_forbids_framing_and_inline_code() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"


def test_pages_static_files_and_redirects(anon: TestClient) -> None:
    for path in ("/signin", "/static/ui.css", "/static/ui.js", "/healthz", "/readyz"):
        answer = anon.get(path)
        assert answer.status_code == 200, path
        assert_secure(answer)
    redirect = anon.get("/canvases", follow_redirects=False)
    assert redirect.status_code in (302, 303, 307)
    assert_secure(redirect)


def test_api_answers_and_api_errors(api: TestClient, anon: TestClient) -> None:
    cases = [
        (api.get("/api/v1/canvases"), 200),
        (anon.get("/api/v1/canvases"), 401),
        (api.get("/api/v1/canvases/nope"), 404),
        (api.put("/api/v1/canvases/bad", content="name: bad\nnodes: 7\n"), 422),
        (api.post("/api/v1/canvases/x/nodes/y/run", content="{"), 400),
        (api.delete("/api/v1/components"), 405),
        (api.put("/api/v1/canvases/big", content=b"x" * (2 * 1024 * 1024)), 413),
    ]
    for answer, status in cases:
        assert answer.status_code == status, answer.text
        assert_secure(answer)


def test_webhooks_and_unknown_pages(anon: TestClient) -> None:
    for answer, status in [
        (anon.post("/webhooks/unknown-endpoint", content=b"{}"), 404),
        (anon.post("/webhooks/bad!id", content=b"{}"), 404),
        (anon.post("/webhooks/x", content=b"x" * (600 * 1024)), 413),
    ]:
        assert answer.status_code == status
        assert_secure(answer)


def test_ui_error_pages(app: Any) -> None:
    client, csrf = signed_in_form(app)
    with client:
        for answer, status in [
            (client.get("/canvases/no-such-canvas"), 404),
            (client.get("/runs/no-such-run"), 404),
            (client.post("/signout", data={"csrf_token": "forged"}), 403),
        ]:
            assert answer.status_code == status, answer.text[:200]
            assert "text/html" in answer.headers["content-type"]
            assert_secure(answer)


def test_a_431_from_the_app_carries_them(anon: TestClient) -> None:
    answer = anon.get("/healthz", headers={"x-big": "a" * 20_000})
    assert answer.status_code == 431
    assert "header fields larger than 16384 bytes" in answer.json()["error"]
    assert_secure(answer)
    many = {f"x-h{i}": "1" for i in range(120)}
    answer = anon.post("/webhooks/x", headers=many, content=b"{}")
    assert answer.status_code == 431 and "more than 100 header fields" in answer.text
    assert_secure(answer)


def test_an_unexpected_500_carries_them(app: Any, store: Any, database_url: str) -> None:
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {app.state.settings.admin_token}"}
                    ) as client:
        engine = sa.create_engine(database_url)
        with engine.begin() as conn:  # a real failure: the table is gone
            conn.exec_driver_sql("DROP TABLE canvases")
        engine.dispose()
        answer = client.get("/api/v1/canvases")
        assert answer.status_code == 500
        assert_secure(answer)
        assert client.get("/healthz").status_code == 200


def test_a_handler_that_sets_its_own_policy_keeps_it() -> None:
    from incidentflow.web.headers import with_security_headers

    own = [(b"content-security-policy", b"default-src 'none'")]
    merged = with_security_headers(own)
    assert [v for k, v in merged if k == b"content-security-policy"] == [b"default-src 'none'"]
    assert (b"x-content-type-options", b"nosniff") in merged


def test_a_webhook_bug_is_a_generic_500_with_them(app: Any) -> None:
    """Deliveries are answered at the app's edge (web/webhook_edge.py), outside
    Starlette's error middleware: a bug still gets its generic, secured 500."""

    class Broken:
        async def receive(self, *args: Any) -> Any:
            raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.receiver = Broken()
        answer = client.post("/webhooks/abc123", content=b"{}")
        assert answer.status_code == 500 and answer.text == "Internal Server Error"
        assert answer.headers["content-type"] == "text/plain; charset=utf-8"
        assert_secure(answer)


def test_only_a_webhook_post_is_answered_at_the_edge() -> None:
    """Other methods, deeper paths, a mounted app and an oversized head go down the
    full stack (router: 405/404/redirect; HeaderLimits: 431), as before the edge."""
    from incidentflow.web.webhook_edge import WebhookEdge

    edge = WebhookEdge(app=None, receiver=lambda: None, max_header_bytes=100, max_headers=2)  # type: ignore[arg-type]

    def scope(method: str = "POST", path: str = "/webhooks/abc", **more: Any) -> dict:
        return {"type": "http", "method": method, "path": path, "headers": [], **more}

    assert edge._endpoint_id(scope()) == "abc"
    assert edge._endpoint_id(scope(method="GET")) is None
    for path in ("/webhooks/", "/webhooks/abc/", "/webhooks/a/b", "/webhooksabc", "/api/v1"):
        assert edge._endpoint_id(scope(path=path)) is None, path
    assert edge._endpoint_id(scope(root_path="/prefix")) is None
    assert edge._endpoint_id(scope(headers=[(b"a", b"1")] * 3)) is None
    assert edge._endpoint_id({"type": "websocket", "path": "/webhooks/abc"}) is None
