"""Integrations through the API: validated, stored encrypted, never shown again."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from .conftest import EMULATOR_KEY, EMULATOR_URL, put_yaml

CREATE_CANVAS = """
name: creates
nodes:
  - {name: Start, type: start}
  - name: Open
    type: incident.createIncident
    integration: incident
    configuration: {name: "{{ root.data.title }}", severityId: "SEVERITY"}
edges:
  - {from: Start, to: Open}
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this module tests the web layer; the store's own tests cover both."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def put_incident(api: TestClient, **configuration: str) -> dict:
    response = api.put("/api/v1/integrations/incident",
                       json={"type": "incident", "configuration": configuration})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_good_key_is_ready_and_never_returned(api: TestClient) -> None:
    view = put_incident(api, apiKey=EMULATOR_KEY, baseUrl=EMULATOR_URL)
    assert view["status"] == "ready"
    assert view["configuration"] == {"apiKey": {"configured": True}, "baseUrl": EMULATOR_URL}
    for response in (api.get("/api/v1/integrations/incident"), api.get("/api/v1/integrations")):
        assert response.status_code == 200
        assert EMULATOR_KEY not in response.text
    assert api.get("/api/v1/integrations").json()["integrations"][0]["status"] == "ready"


def test_a_rejected_key_is_stored_with_the_reason(api: TestClient) -> None:
    view = put_incident(api, apiKey="wrong-key", baseUrl=EMULATOR_URL)
    assert view["status"] == "error"
    assert "API key rejected" in view["reason"]
    assert api.get("/api/v1/integrations/incident").json()["status"] == "error"


def test_an_update_without_the_key_keeps_the_stored_key(api: TestClient) -> None:
    put_incident(api, apiKey=EMULATOR_KEY, baseUrl=EMULATOR_URL)
    view = put_incident(api, baseUrl=EMULATOR_URL)  # same address: the key may stay
    assert view["status"] == "ready"  # validated with the kept key
    assert view["configuration"]["apiKey"] == {"configured": True}


def test_bad_integration_requests(api: TestClient) -> None:
    def put(body: object) -> tuple[int, dict]:
        response = api.put("/api/v1/integrations/x", json=body)
        return response.status_code, response.json()

    status, body = put({"type": "nope", "configuration": {}})
    assert status == 422 and body["problems"][0]["field"] == "type"
    status, body = put({"configuration": {}})
    assert status == 422 and body["problems"][0]["field"] == "type"
    status, body = put({"type": "incident", "configuration": {"colour": "red"}})
    assert status == 422 and {p["field"] for p in body["problems"]} == {"colour"}
    status, body = put({"type": "incident", "configuration": {"baseUrl": EMULATOR_URL}})
    assert status == 422 and body["problems"][0]["field"] == "apiKey"
    status, body = put({"type": "incident", "configuration": []})
    assert status == 422
    status, body = put(["not", "an", "object"])
    assert status == 400
    malformed = api.put("/api/v1/integrations/x", content=b"{oops",
                        headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert api.get("/api/v1/integrations/x").status_code == 404


def test_resources_list_severities(api: TestClient) -> None:
    put_incident(api, apiKey=EMULATOR_KEY, baseUrl=EMULATOR_URL)
    response = api.get("/api/v1/integrations/incident/resources", params={"type": "severity"})
    assert response.status_code == 200, response.text
    resources = response.json()["resources"]
    assert resources and {r["type"] for r in resources} == {"severity"}
    assert api.get("/api/v1/integrations/incident/resources").status_code == 400
    unknown = api.get("/api/v1/integrations/incident/resources", params={"type": "cat"})
    assert unknown.status_code == 422
    assert api.get("/api/v1/integrations/ghost/resources",
                   params={"type": "severity"}).status_code == 404


def test_resources_when_the_service_fails_is_502(api: TestClient) -> None:
    put_incident(api, apiKey="wrong-key", baseUrl=EMULATOR_URL)
    response = api.get("/api/v1/integrations/incident/resources", params={"type": "severity"})
    assert response.status_code == 502
    assert "wrong-key" not in response.text


def test_a_canvas_using_the_integration_is_checked_against_the_service(api: TestClient) -> None:
    put_incident(api, apiKey=EMULATOR_KEY, baseUrl=EMULATOR_URL)
    severities = api.get("/api/v1/integrations/incident/resources",
                         params={"type": "severity"}).json()["resources"]
    unknown = put_yaml(api, "creates", CREATE_CANVAS)
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["node"] == "Open"
    assert unknown.json()["problems"][0]["field"] == "configuration.severityId"
    good = put_yaml(api, "creates", CREATE_CANVAS.replace("SEVERITY", severities[0]["id"]))
    assert good.status_code == 200, good.text


def test_delete_integration(api: TestClient) -> None:
    put_incident(api, apiKey=EMULATOR_KEY, baseUrl=EMULATOR_URL)
    assert api.delete("/api/v1/integrations/incident").status_code == 204
    assert api.get("/api/v1/integrations/incident").status_code == 404


def test_the_api_key_never_reaches_the_logs(api: TestClient,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    put_incident(api, apiKey=EMULATOR_KEY, baseUrl=EMULATOR_URL)
    put_incident(api, apiKey="another-secret-key", baseUrl=EMULATOR_URL)
    api.get("/api/v1/integrations/incident/resources", params={"type": "severity"})
    assert EMULATOR_KEY not in caplog.text
    assert "another-secret-key" not in caplog.text
