"""Secrets at rest and on the wire: files are 0600; no API answer carries a secret."""

from __future__ import annotations

import json
import re
import secrets
import stat
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from helpers import http_sink, wait_until
from reliability.canvases import new_signing_secret
from reliability.deliveries import incident_body, signed

from incidentflow.crypto import MASK

from .conftest import Stack

try:
    from _logscan import known_secret
except ImportError:  # pragma: no cover
    def known_secret(value: str) -> None:
        pass


@pytest.mark.parametrize("name", ["admin.token", "secret.key"])
def test_generated_secret_files_are_private(stack: Stack, name: str) -> None:
    mode = stat.S_IMODE((stack.server.data_dir / name).stat().st_mode)
    assert mode == 0o600, oct(mode)


def test_no_other_file_of_the_data_dir_is_readable_by_others(stack: Stack) -> None:
    secret_files = [p for p in stack.server.data_dir.iterdir()
                    if p.is_file() and p.suffix in (".token", ".key")]
    readable = [p.name for p in secret_files if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert len(secret_files) >= 2
    assert readable == []


def read_everything(stack: Stack) -> dict[str, str]:
    """Every GET of the API with the objects the stack created, by path."""
    paths = ["/api/v1/canvases", "/api/v1/canvases/mirror", "/api/v1/canvases/load",
             "/api/v1/canvases/mirror/runs", "/api/v1/integrations",
             "/api/v1/integrations/incident", "/api/v1/integrations/incident/resources"
             "?type=severity", "/api/v1/components", "/api/v1/openapi.json", "/api/v1/tokens"]
    with stack.client() as client:
        answers = {p: client.get(p) for p in paths}
        runs = answers["/api/v1/canvases/mirror/runs"].json()["runs"]
        for run in runs[:3]:
            answers[f"/api/v1/runs/{run['id']}"] = client.get(f"/api/v1/runs/{run['id']}")
    return {path: answer.text for path, answer in answers.items()}


def test_no_response_carries_a_secret(stack: Stack) -> None:
    delivery = signed(stack.webhook.secret, "msg_exposure", incident_body(9))
    with stack.client() as client:
        assert client.post(stack.webhook.url, content=delivery.body,
                           headers=delivery.headers).status_code == 200
        rotated = new_signing_secret()
        known_secret(rotated)
        answer = client.post("/api/v1/canvases/load/nodes/On Incident/hooks/setSecret",
                             json={"webhookSigningSecret": rotated})
        assert answer.status_code == 200 and rotated not in answer.text
        again = client.put("/api/v1/integrations/incident", json={
            "type": "incident",
            "configuration": {"apiKey": stack.api_key, "baseUrl": stack.emulator.url}})
        assert stack.api_key not in again.text
    pages = read_everything(stack)
    leaks = [(path, s[:8]) for path, text in pages.items()
             for s in [*stack.secrets, rotated] if s in text]
    assert leaks == []
    integration = json.loads(pages["/api/v1/integrations/incident"])
    assert integration["configuration"]["apiKey"] == {"configured": True}  # said, not shown


SECRET_FLOW = """
name: secret-flow
nodes:
  - {name: Start, type: start}
  - name: Page
    type: http
    configuration:
      method: POST
      url: "SINK/page?token={{ secrets.E2E_TOKEN }}"
      headers: {Authorization: "Bearer {{ secrets.E2E_TOKEN }}"}
      body: {note: paged}
  - name: Unreachable
    type: http
    configuration:
      method: GET
      url: "http://127.0.0.1:9/down?token={{ secrets.E2E_TOKEN }}"
edges:
  - {from: Start, to: Page}
  - {from: Start, to: Unreachable}
"""


def test_a_canvas_secret_reaches_the_receiver_and_no_one_else(stack: Stack) -> None:
    """``{{ secrets.NAME }}`` in a header and a URL query: the receiver gets the value;
    the run API, the run page, the stored rows and the logs get the mask."""
    value = f"tok_{secrets.token_hex(12)}/+="
    known_secret(value)
    with http_sink() as sink, stack.client() as client:
        stored = client.put("/api/v1/secrets/E2E_TOKEN", json={"value": value})
        assert stored.status_code == 200 and value not in stored.text
        applied = client.put("/api/v1/canvases/secret-flow",
                             content=SECRET_FLOW.replace("SINK", sink.url),
                             headers={"Content-Type": "application/yaml"})
        assert applied.status_code == 200 and applied.json()["warnings"] == [], applied.text
        started = client.post("/api/v1/canvases/secret-flow/nodes/Start/run", json={})
        run_id = started.json()["runId"]
        run = wait_until(lambda: _both_tried(client, run_id), what="both http nodes to run")
        run_text = client.get(f"/api/v1/runs/{run_id}").text
        listed = client.get("/api/v1/secrets").text

    [received] = sink.requests
    assert received["headers"]["authorization"] == f"Bearer {value}"
    assert received["path"] == f"/page?token={value}"

    page, unreachable = (_execution(run, n) for n in ("Page", "Unreachable"))
    assert page["configuration"]["url"] == f"{sink.url}/page?token={MASK}"
    assert page["configuration"]["headers"]["Authorization"] == f"Bearer {MASK}"
    # The retried error names the URL without its query (egress redacts it).
    assert "127.0.0.1:9/down" in unreachable["error"] and value not in unreachable["error"]
    assert value not in run_text and value not in listed
    assert value not in _run_page(stack, run_id)
    assert _rows_holding(stack, "secrets.E2E_TOKEN")  # the scan reads the canvas rows
    assert _rows_holding(stack, value) == []
    assert value not in stack.server.log()


def _both_tried(client: httpx.Client, run_id: str) -> dict[str, Any] | None:
    run = client.get(f"/api/v1/runs/{run_id}").json()
    nodes = {e["node"]: e for e in run["executions"]}
    page, down = nodes.get("Page"), nodes.get("Unreachable")
    done = page and page["state"] == "succeeded" and down and down.get("error")
    return run if done else None


def _execution(run: dict[str, Any], node: str) -> dict[str, Any]:
    return next(e for e in run["executions"] if e["node"] == node)


def _run_page(stack: Stack, run_id: str) -> str:
    """The run page as a signed-in browser gets it."""
    with httpx.Client(base_url=stack.server.url, follow_redirects=True) as browser:
        form = browser.get("/signin").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf
        browser.post("/signin", data={"token": stack.server.token, "csrf_token": csrf.group(1)})
        answer = browser.get(f"/runs/{run_id}")
    assert answer.status_code == 200 and MASK in answer.text, answer.text[:500]
    return answer.text


def _rows_holding(stack: Stack, value: str) -> list[str]:
    """Every table and column of the server's database where ``value`` appears as text."""
    engine = sa.create_engine(f"sqlite:///{stack.server.data_dir / 'incidentflow.db'}")
    found = []
    try:
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    found += [f"{table}: {cell[:60]!r}" for cell in map(str, row) if value in cell]
    finally:
        engine.dispose()
    return found
