"""Input that Python's ``json`` accepts but that is not JSON (or breaks us later) is
refused at every ingress with a 400 naming what is wrong, stores nothing, and leaves
no ERROR (or traceback) in the logs. Runs stored before these rules still render.

On SQLite and PostgreSQL (the ``store`` fixture), except the stored-before case:
PostgreSQL's jsonb could never hold NaN or a lone surrogate, so only SQLite has them.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from incidentflow.events import Event
from incidentflow.integrations.incidentio.signature import sign
from incidentflow.jsontext import MAX_DEPTH, MAX_NUMBER_CHARS

from .conftest import signed_in_form

MANUAL = "name: manual\nnodes:\n  - {name: Start, type: start}\nedges: []\n"
HOOKS = ("name: hooks\nnodes:\n  - {name: On Incident, type: incident.onIncident}\n"
         "edges: []\n")
CREATED = "public_incident.incident_created_v2"

# body text -> what the 400 must say
BAD_JSON = {
    "NaN": ('{"x": NaN}', "NaN is not a JSON number"),
    "Infinity": ('{"x": Infinity}', "Infinity is not a JSON number"),
    "-Infinity": ('{"x": [-Infinity]}', "-Infinity is not a JSON number"),
    "1e999": ('{"x": 1e999}', "1e999 is out of range"),
    "lone surrogate": ('{"x": "\\ud800"}', "lone surrogate"),
    "lone low surrogate in a list": ('{"x": ["ok", "\\udfff"]}', "lone surrogate"),
    "lone surrogate as a key": ('{"\\udc00": 1}', "lone surrogate"),
    "5000-digit number": ('{"x": ' + "7" * 5000 + "}", "5000 characters"),
    "long float": ('{"x": 0.' + "1" * MAX_NUMBER_CHARS + "}", "characters"),
    "duplicate key": ('{"x": 1, "y": {"k": 1, "k": 2}}', "key 'k' appears twice"),
    "too deep": ('{"x": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}",
                 f"nested more than {MAX_DEPTH} levels deep"),
    "10k deep": ('{"x": ' + "[" * 10_000 + "]" * 10_000 + "}", "nested"),
}


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture):
    """ERROR records and tracebacks logged during the test (there must be none)."""
    caplog.set_level(logging.DEBUG)

    def found() -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in caplog.records
                if r.levelno >= logging.ERROR or r.exc_info]
    return found


def manual_canvas(api: TestClient) -> None:
    answer = api.put("/api/v1/canvases/manual", content=MANUAL)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_a_manual_run_payload_is_refused_with_400(api: TestClient, errors, case: str) -> None:
    manual_canvas(api)
    text, reason = BAD_JSON[case]
    answer = api.post("/api/v1/canvases/manual/nodes/Start/run", content=text)
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["error"]
    assert api.get("/api/v1/canvases/manual/runs").json()["runs"] == []
    assert errors() == []


def test_a_good_payload_still_runs(api: TestClient) -> None:
    manual_canvas(api)
    text = '{"x": 1.5, "big": ' + "9" * 60 + ', "emoji": "\\ud83d\\ude00", "n": null}'
    answer = api.post("/api/v1/canvases/manual/nodes/Start/run", content=text)
    assert answer.status_code == 202, answer.text
    run = api.get(f"/api/v1/runs/{answer.json()['runId']}").json()
    assert run["root"]["data"] == {"x": 1.5, "big": int("9" * 60), "emoji": "😀", "n": None}


@pytest.mark.parametrize("case", ["NaN", "1e999", "lone surrogate", "duplicate key",
                                  "5000-digit number", "10k deep"])
def test_every_json_api_body_is_decoded_strictly(api: TestClient, errors, case: str) -> None:
    manual_canvas(api)
    text, reason = BAD_JSON[case]
    hooks = api.put("/api/v1/canvases/hooks", content=HOOKS)
    assert hooks.status_code == 200, hooks.text
    bodies = {
        ("PUT", "/api/v1/integrations/incident"):
            text.replace('{"x":', '{"type": "incident", "configuration": {"x":') + "}",
        ("POST", "/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret"): text,
        ("POST", "/api/v1/tokens"): text,
        ("PUT", "/api/v1/canvases/manual"): text,
    }
    for (method, path), body in bodies.items():
        answer = api.request(method, path, content=body,
                             headers={"content-type": "application/json"})
        assert answer.status_code == 400, (path, answer.text)
        assert reason in answer.json()["error"], (path, answer.text)
    assert api.get("/api/v1/integrations").json()["integrations"] == []
    assert api.get("/api/v1/tokens").json()["tokens"] == []
    assert errors() == []


def test_a_json_canvas_with_a_key_twice_is_refused_naming_the_key(api: TestClient) -> None:
    twice = '{"name": "c", "nodes": [{"name": "Start", "type": "start", "type": "noop"}]}'
    for content_type in ("application/json", "application/yaml"):
        answer = api.put("/api/v1/canvases/c", content=twice,
                         headers={"content-type": content_type})
        assert answer.status_code == 400, answer.text
        assert "key 'type' appears twice" in answer.json()["error"]
    # the same mistake in YAML is refused too, by the same rule
    yaml_twice = "name: c\nnodes:\n  - name: Start\n    type: start\n    type: noop\n"
    answer = api.put("/api/v1/canvases/c", content=yaml_twice)
    assert answer.status_code == 400 and "key 'type' appears twice" in answer.json()["error"]
    assert api.get("/api/v1/canvases").json()["canvases"] == []


def test_yaml_flow_style_that_is_not_json_still_loads(api: TestClient) -> None:
    answer = api.put("/api/v1/canvases/flow",
                     content="{name: flow, nodes: [{name: Start, type: start}], edges: []}")
    assert answer.status_code == 200, answer.text


# -- the UI's manual-run form ---------------------------------------------------------


@pytest.mark.parametrize("case", ["NaN", "1e999", "5000-digit number", "duplicate key"])
def test_the_ui_run_form_explains_a_bad_payload(app: Any, api: TestClient, errors,
                                                case: str) -> None:
    manual_canvas(api)
    client, csrf = signed_in_form(app)
    with client:
        answer = client.post("/canvases/manual/nodes/Start/run",
                             data={"payload": BAD_JSON[case][0], "csrf_token": csrf},
                             follow_redirects=False)
    assert answer.status_code == 422, answer.text[:300]
    assert "The payload is not valid JSON" in answer.text
    assert api.get("/api/v1/canvases/manual/runs").json()["runs"] == []
    assert errors() == []


# -- signed webhooks --------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@pytest.fixture
def hook(api: TestClient) -> dict[str, str]:
    assert api.put("/api/v1/canvases/hooks", content=HOOKS).status_code == 200
    secret = new_secret()
    answer = api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
                      json={"webhookSigningSecret": secret})
    assert answer.status_code == 200, answer.text
    path = answer.json()["live"]["webhookUrl"].removeprefix("https://flows.example.com")
    return {"path": path, "secret": secret}


def deliver(api: TestClient, hook: dict[str, str], body: bytes,
            timestamp: str | None = None) -> Any:
    msg_id = "msg_" + secrets.token_hex(8)
    signed_at = timestamp or str(int(time.time()))
    headers = {"content-type": "application/json", "webhook-id": msg_id,
               "webhook-timestamp": signed_at.encode(),  # bytes: may be beyond ASCII
               "webhook-signature": sign(hook["secret"], msg_id, signed_at, body)}
    return api.post(hook["path"], content=body, headers=headers)


def incident_json(value: str) -> bytes:
    incident = '{"id": "01X", "name": "n", "extra": ' + value + "}"
    return f'{{"event_type": "{CREATED}", "{CREATED}": {incident}}}'.encode()


# Duplicate keys are not looked for in signed deliveries (hot path; incident.io's bytes,
# read by us alone): see docs/security.md.
@pytest.mark.parametrize("case", ["NaN", "Infinity", "1e999", "lone surrogate",
                                  "lone low surrogate in a list", "5000-digit number",
                                  "too deep"])
def test_a_signed_webhook_with_bad_json_is_400(api: TestClient, hook, errors,
                                               case: str) -> None:
    value = BAD_JSON[case][0].removeprefix('{"x": ').removesuffix("}")
    answer = deliver(api, hook, incident_json(value))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "bad request"}  # the reason stays in our logs
    assert api.get("/api/v1/canvases/hooks/runs").json()["runs"] == []
    assert errors() == []


def test_a_signed_webhook_nested_10k_deep_is_400_without_a_traceback(
        api: TestClient, hook, errors) -> None:
    answer = deliver(api, hook, b'{"a":' * 10_000 + b"1" + b"}" * 10_000)
    assert answer.status_code == 400
    assert errors() == []


def test_a_good_signed_webhook_is_still_accepted(api: TestClient, hook) -> None:
    answer = deliver(api, hook, incident_json('{"emoji": "\\ud83d\\ude00", "n": 1e300}'))
    assert answer.status_code == 200, answer.text
    assert len(api.get("/api/v1/canvases/hooks/runs").json()["runs"]) == 1


@pytest.mark.parametrize("timestamp", ["9" * 400, "1" + "0" * 12, "-1", "1e9", "１２３"])
def test_a_webhook_timestamp_that_is_not_sane_is_403(api: TestClient, hook, errors,
                                                     timestamp: str) -> None:
    answer = deliver(api, hook, incident_json("1"), timestamp=timestamp)
    assert answer.status_code == 403, answer.text
    assert answer.json() == {"error": "forbidden"}
    assert errors() == []


# -- runs stored before ingress refused these values (SQLite only, see above) ------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_runs_stored_with_nan_infinity_or_a_lone_surrogate_still_render(
        app: Any, api: TestClient, store: Any) -> None:
    manual_canvas(api)
    data = {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
            "text": "a\ud800b", "list": [float("nan"), "\udfff"], "\ud801": "key"}
    # what ingress used to let through, written as it was then: through the store
    run_id = store.start_run("manual", "Start", Event(type="start.manual", data=data), [],
                             datetime.now(UTC))
    answer = api.get(f"/api/v1/runs/{run_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["root"]["data"] == {
        "nan": "NaN", "inf": "Infinity", "ninf": "-Infinity", "text": "a\ufffdb",
        "list": ["NaN", "\ufffd"], "\ufffd": "key"}
    client, _ = signed_in_form(app)
    with client:
        page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert "Infinity" in page.text and "a\ufffdb" in page.text
