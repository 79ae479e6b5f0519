"""``/api/v1/secrets``: set, list (names and dates only), delete; and the warning when a
canvas reads a secret that is not set yet. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from incidentflow.crypto import SecretBox

from .conftest import put_yaml

try:
    from _logscan import known_secret
except ImportError:  # pragma: no cover
    def known_secret(value: str) -> None:
        pass

VALUE = "api-secret-value-Zq81"
PAGING = """
name: paging
nodes:
  - {name: Start, type: start}
  - name: Page
    type: http
    configuration:
      url: "https://pager.example/v1/page"
      headers: {Authorization: "Bearer {{ secrets.PAGER_TOKEN }}"}
edges:
  - {from: Start, to: Page}
"""


@pytest.fixture(autouse=True)
def _scanned() -> None:
    known_secret(VALUE)


def test_set_list_replace_delete(api: TestClient) -> None:
    assert api.get("/api/v1/secrets").json() == {"secrets": []}
    created = api.put("/api/v1/secrets/PAGER_TOKEN", json={"value": VALUE})
    assert created.status_code == 200, created.text
    body = created.json()
    assert set(body) == {"name", "createdAt", "updatedAt"} and body["name"] == "PAGER_TOKEN"
    replaced = api.put("/api/v1/secrets/PAGER_TOKEN", json={"value": VALUE + "-2"}).json()
    assert replaced["createdAt"] == body["createdAt"]
    listed = api.get("/api/v1/secrets")
    assert listed.json() == {"secrets": [replaced]}
    assert VALUE not in listed.text and VALUE not in created.text
    assert api.delete("/api/v1/secrets/PAGER_TOKEN").status_code == 204
    assert api.get("/api/v1/secrets").json() == {"secrets": []}


def test_the_value_is_stored_encrypted(api: TestClient, app, store) -> None:
    api.put("/api/v1/secrets/AT_REST", json={"value": VALUE})
    [ciphertext] = store.secrets_encrypted().values()
    assert VALUE not in ciphertext
    assert SecretBox(app.state.settings.secret_key).decrypt(ciphertext) == VALUE


def test_deleting_an_unknown_secret_is_a_404(api: TestClient) -> None:
    answer = api.delete("/api/v1/secrets/NOPE")
    assert answer.status_code == 404
    assert answer.json() == {"error": "secret 'NOPE' does not exist"}


@pytest.mark.parametrize("name", ["2FA", "with-dash", "dot.ted", "A" * 101])
def test_a_bad_name_is_a_422_naming_the_field(api: TestClient, name: str) -> None:
    for answer in (api.put(f"/api/v1/secrets/{name}", json={"value": VALUE}),
                   api.delete(f"/api/v1/secrets/{name}")):
        assert answer.status_code == 422, answer.text
        assert answer.json()["problems"][0]["field"] == "name"
        assert "letter or _" in answer.json()["problems"][0]["message"]
    assert api.get("/api/v1/secrets").json() == {"secrets": []}


@pytest.mark.parametrize(("body", "field"), [
    ({}, "value"), ({"value": ""}, "value"), ({"value": 5}, "value"), ({"value": "abc"}, "value"),
    ({"value": VALUE, "vaule": "x"}, "vaule"),
])
def test_a_bad_body_is_a_422_naming_the_field(api: TestClient, body: dict, field: str) -> None:
    answer = api.put("/api/v1/secrets/OK_NAME", json=body)
    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["problems"]] == [field]
    assert VALUE not in answer.text


def test_malformed_json_is_a_400(api: TestClient) -> None:
    answer = api.put("/api/v1/secrets/OK_NAME", content=b"{not json",
                     headers={"Content-Type": "application/json"})
    assert answer.status_code == 400


def test_every_secret_route_needs_the_token(anon: TestClient) -> None:
    for method, path in [("GET", "/api/v1/secrets"), ("PUT", "/api/v1/secrets/X"),
                         ("DELETE", "/api/v1/secrets/X")]:
        answer = anon.request(method, path, json={"value": VALUE})
        assert answer.status_code == 401, (method, path)


def test_saving_a_canvas_that_reads_an_unset_secret_warns(api: TestClient) -> None:
    saved = put_yaml(api, "paging", PAGING)
    assert saved.status_code == 200, saved.text
    [warning] = saved.json()["warnings"]
    assert (warning["node"], warning["field"]) == ("Page", "headers.Authorization")
    assert "'PAGER_TOKEN'" in warning["message"] and "not set" in warning["message"]
    api.put("/api/v1/secrets/PAGER_TOKEN", json={"value": VALUE})
    again = put_yaml(api, "paging", PAGING.replace("/v1/page", "/v2/page"))
    assert again.json()["warnings"] == []


def test_the_openapi_document_describes_the_routes(api: TestClient) -> None:
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/secrets/{name}"]) == {"put", "delete"}
    assert "422" in paths["/api/v1/secrets/{name}"]["put"]["responses"]
    assert set(paths["/api/v1/secrets"]) == {"get"}
