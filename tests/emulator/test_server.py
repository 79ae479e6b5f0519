"""The emulator served over real HTTP, and its CLI entry point."""

from __future__ import annotations

import httpx
from emulator_support import API_KEY, AUTH, MINOR, Receiver
from standardwebhooks import Webhook
from typer.testing import CliRunner

from incidentflow.cli import app as incidentflow_cli
from incidentflow.cli.server import EMULATOR_KEY
from incidentflow.emulator import create_emulator_app, serve_in_thread
from incidentflow.emulator.app import DEFAULT_API_KEY
from incidentflow.emulator.server import describe

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_served_emulator_creates_and_delivers_over_http(receiver: Receiver):
    app = create_emulator_app(
        api_keys=API_KEY, webhook_endpoints=[(receiver.url, SECRET)], retry_schedule=(0,)
    )
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as http:
        assert http.get("/v1/severities").status_code == 200
        payload = {"idempotency_key": "k", "visibility": "public", "name": "x",
                   "severity_id": MINOR}
        incident = http.post("/v2/incidents", json=payload).json()["incident"]
        assert incident["permalink"] == f"{base_url}/emulator/incidents/1"
        headers, body = receiver.take()
        delivered = Webhook(SECRET).verify(body, headers)
        assert delivered["public_incident.incident_created_v2"]["id"] == incident["id"]


def test_banner_prints_key_and_endpoints():
    app = create_emulator_app(api_keys="k1", webhook_endpoints=[("http://127.0.0.1:9/h", SECRET)])
    banner = describe(app, "127.0.0.1", 8025, "k1")
    assert "Bearer k1" in banner and "http://127.0.0.1:8025" in banner
    assert f"http://127.0.0.1:9/h  secret {SECRET}" in banner


def test_cli_rejects_a_bad_webhook_flag_before_serving():
    for flag, value in (("--webhook", "not-a-url=whsec_abcd"), ("--endpoint", "not-a-url")):
        result = CliRunner().invoke(incidentflow_cli, ["emulator", flag, value])
        assert result.exit_code == 2, result.output
        assert "absolute http(s) URL" in result.output


def test_the_cli_default_key_is_the_emulators():
    assert EMULATOR_KEY == DEFAULT_API_KEY
