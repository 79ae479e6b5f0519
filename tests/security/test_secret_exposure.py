"""Secrets at rest and on the wire: files are 0600; no API answer carries a secret."""

from __future__ import annotations

import json
import stat

import pytest
from reliability.canvases import new_signing_secret
from reliability.deliveries import incident_body, signed

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
