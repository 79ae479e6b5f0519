"""Canvases through the API: save, validation errors, live webhook metadata, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from .conftest import MANUAL_CANVAS, PUBLIC_URL, WEBHOOK_CANVAS, new_signing_secret, put_yaml


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this module tests the web layer; the store's own tests cover both."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def test_put_yaml_then_get_and_list(api: TestClient) -> None:
    saved = put_yaml(api, "manual", MANUAL_CANVAS)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"name": "manual", "version": 1, "created": True, "warnings": []}

    again = put_yaml(api, "manual", MANUAL_CANVAS)
    assert again.json()["created"] is False and again.json()["version"] == 1

    view = api.get("/api/v1/canvases/manual").json()
    assert [n["name"] for n in view["nodes"]] == ["Start", "Only majors"]
    assert view["source"] == MANUAL_CANVAS
    listed = api.get("/api/v1/canvases").json()["canvases"]
    assert [(c["name"], c["version"]) for c in listed] == [("manual", 1)]


def test_put_json_with_the_name_filled_in_from_the_url(api: TestClient) -> None:
    document = {"nodes": [{"name": "Start", "type": "start"}], "edges": []}
    response = api.put("/api/v1/canvases/from-url", json=document)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "from-url"
    assert api.get("/api/v1/canvases/from-url").status_code == 200


def test_a_name_that_disagrees_with_the_url_is_refused(api: TestClient) -> None:
    response = put_yaml(api, "other", MANUAL_CANVAS)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "name"
    assert api.get("/api/v1/canvases/other").status_code == 404


def test_validation_errors_name_node_and_field(api: TestClient) -> None:
    broken = """
name: broken
nodes:
  - {name: Start, type: start}
  - {name: Check, type: filter, configuration: {expression: "root.data.x =="}}
edges:
  - {from: Start, to: Check}
"""
    response = put_yaml(api, "broken", broken)
    assert response.status_code == 422
    body = response.json()
    assert body["error"]
    assert {"node": "Check", "field": "configuration.expression"} in [
        {"node": p["node"], "field": p["field"]} for p in body["problems"]
    ]


def test_an_integration_node_naming_an_unknown_integration_is_refused(api: TestClient) -> None:
    canvas = """
name: creates
nodes:
  - {name: Start, type: start}
  - name: Open
    type: incident.createIncident
    integration: nowhere
    configuration: {name: "x", severityId: "sev"}
edges:
  - {from: Start, to: Open}
"""
    response = put_yaml(api, "creates", canvas)
    assert response.status_code == 422, response.text
    assert {"node": "Open", "field": "integration",
            "message": "unknown integration 'nowhere'"} in response.json()["problems"]


def test_malformed_yaml_and_json_are_400(api: TestClient) -> None:
    yaml_response = put_yaml(api, "bad", "name: [unclosed\nnodes: {")
    assert yaml_response.status_code == 400
    assert "YAML" in yaml_response.json()["error"]
    json_response = api.put("/api/v1/canvases/bad", content=b"{not json",
                            headers={"Content-Type": "application/json"})
    assert json_response.status_code == 400
    scalar = put_yaml(api, "bad", "just a string")
    assert scalar.status_code == 400
    binary = api.put("/api/v1/canvases/bad", content=b"\xff\xfe",
                     headers={"Content-Type": "application/yaml"})
    assert binary.status_code == 400


def test_the_api_reads_yaml_exactly_as_the_cli_does(api: TestClient) -> None:
    twice = put_yaml(api, "twice", "name: twice\nname: again\nnodes: []\n")
    assert twice.status_code == 400
    assert "name" in twice.json()["error"] and "line" in twice.json()["error"]
    # YAML 1.1 would read a node called "on" as the boolean true.
    saved = put_yaml(api, "words", "name: words\nnodes:\n  - {name: on, type: start}\n")
    assert saved.status_code == 200
    assert api.get("/api/v1/canvases/words").json()["nodes"][0]["name"] == "on"


def test_unknown_things_are_404_with_a_message(api: TestClient) -> None:
    assert "nope" in api.get("/api/v1/canvases/nope").json()["error"]
    assert api.delete("/api/v1/canvases/nope").status_code == 404
    assert api.get("/api/v1/canvases/nope/runs").status_code == 404
    assert api.get("/api/v1/runs/nope").status_code == 404
    assert api.post("/api/v1/canvases/nope/nodes/Start/run", json={}).status_code == 404
    put_yaml(api, "manual", MANUAL_CANVAS)
    missing_node = api.post("/api/v1/canvases/manual/nodes/Ghost/run", json={})
    assert missing_node.status_code == 404
    assert "Ghost" in missing_node.json()["error"]
    assert api.post("/api/v1/canvases/manual/nodes/Start/hooks/nothing",
                    json={}).status_code == 404


def test_delete_removes_the_canvas(api: TestClient) -> None:
    put_yaml(api, "manual", MANUAL_CANVAS)
    assert api.delete("/api/v1/canvases/manual").status_code == 204
    assert api.get("/api/v1/canvases/manual").status_code == 404


def test_webhook_trigger_is_not_operational_until_a_secret_is_set(api: TestClient) -> None:
    assert put_yaml(api, "hooks", WEBHOOK_CANVAS).status_code == 200
    node = api.get("/api/v1/canvases/hooks").json()["nodes"][0]
    live = node["live"]
    assert live["webhookUrl"].startswith(f"{PUBLIC_URL}/webhooks/")
    assert live["operational"] is False
    assert live["reason"] == "signing secret not set"
    assert live["signingSecretConfigured"] is False

    secret = new_signing_secret()
    set_answer = api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
                          json={"webhookSigningSecret": secret})
    assert set_answer.status_code == 200
    assert secret not in set_answer.text
    live = api.get("/api/v1/canvases/hooks").json()["nodes"][0]["live"]
    assert live["operational"] is True and live["signingSecretConfigured"] is True

    # The URL survives an edit of the canvas (docs/design-rules.md, "Stable webhook URLs").
    put_yaml(api, "hooks", WEBHOOK_CANVAS.replace("Done, type: noop", "Finished, type: noop")
             .replace("to: Done", "to: Finished"))
    after = api.get("/api/v1/canvases/hooks").json()["nodes"][0]["live"]
    assert after["webhookUrl"] == live["webhookUrl"] and after["operational"] is True

    cleared = api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
                       json={"webhookSigningSecret": ""})
    assert cleared.json()["live"]["operational"] is False


def test_a_signing_secret_that_is_not_standard_webhooks_is_refused(api: TestClient) -> None:
    put_yaml(api, "hooks", WEBHOOK_CANVAS)
    for bad in ("hunter2", "whsec_", "whsec_not base64!", 42):
        response = api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
                            json={"webhookSigningSecret": bad})
        assert response.status_code == 422, bad
        assert response.json()["problems"][0]["field"] == "webhookSigningSecret"
        if bad in ("hunter2", "whsec_not base64!"):
            assert bad not in response.text  # the bad value is not echoed back


def test_hook_on_a_node_without_it_is_404(api: TestClient) -> None:
    put_yaml(api, "hooks", WEBHOOK_CANVAS)
    response = api.post("/api/v1/canvases/hooks/nodes/Done/hooks/setSecret",
                        json={"webhookSigningSecret": new_signing_secret()})
    assert response.status_code == 404


def test_components_catalogue(api: TestClient) -> None:
    catalogue = api.get("/api/v1/components").json()
    by_type = {c["type"]: c for c in catalogue["components"]}
    assert {"start", "filter", "if", "http", "noop", "incident.onIncident",
            "incident.createIncident"} <= set(by_type)
    assert by_type["if"]["channels"] == ["true", "false"]
    assert by_type["incident.onIncident"]["hooks"][0]["name"] == "setSecret"
    assert by_type["incident.onIncident"]["exampleOutput"]["type"].startswith("incident.")
    assert [i["type"] for i in catalogue["integrations"]] == ["incident"]


def test_openapi_document_is_served(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/webhooks/{endpoint_id}" in document["paths"]


def test_an_api_body_over_1_mib_is_413(api: TestClient) -> None:
    response = put_yaml(api, "huge", "#" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert "error" in response.json()
