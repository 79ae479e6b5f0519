"""The emulated incident.io API, checked against incident.io's OpenAPI schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from emulator_support import (
    API_KEY,
    AUTH,
    MAJOR,
    MINOR,
    assert_error,
    assert_schema,
    new_incident,
)
from starlette.testclient import TestClient

from incidentflow.emulator import EmulatorState, create_emulator_app

# -- auth and errors -------------------------------------------------------------------


def test_missing_key_is_401_in_incidentio_format(client: TestClient):
    body = assert_error(client.get("/v1/severities"), 401, "missing_authorization_material")
    assert body["type"] == "authentication_error"


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic " + API_KEY, "Bearer "])
def test_wrong_key_is_401(client: TestClient, header: str):
    response = client.get("/v1/severities", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["type"] == "authentication_error"


def test_key_without_scope_is_403_naming_the_scope():
    app = create_emulator_app(api_keys={"viewer": ["severities.view"]})
    with TestClient(app) as client:
        headers = {"Authorization": "Bearer viewer"}
        assert client.get("/v1/severities", headers=headers).status_code == 200
        response = client.post("/v2/incidents", json={}, headers=headers)
    body = assert_error(response, 403, "missing_scope")
    assert "incidents.create" in body["errors"][0]["message"]


def test_unknown_path_is_404_in_incidentio_format(client: TestClient):
    assert_error(client.get("/v9/nothing", headers=AUTH), 404, "not_found")


def test_every_api_key_must_be_non_empty():
    with pytest.raises(ValueError, match="API key"):
        create_emulator_app(api_keys=[""])


# -- severities ------------------------------------------------------------------------


def test_severities_are_seeded_and_match_the_schema(client: TestClient):
    response = client.get("/v1/severities", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert_schema(body, "SeveritiesListResultV1")
    assert [s["name"] for s in body["severities"]] == ["Minor", "Major", "Critical"]
    assert body["severities"][0]["id"] == MINOR
    assert [s["rank"] for s in body["severities"]] == [1, 2, 3]


# -- create ----------------------------------------------------------------------------


def test_create_returns_a_full_incident(client: TestClient):
    response = client.post(
        "/v2/incidents",
        headers=AUTH,
        json={
            "idempotency_key": "k1",
            "visibility": "public",
            "name": "Our database is sad",
            "summary": "Slow queries",
            "severity_id": MAJOR,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert_schema(body, "IncidentsCreateResultV2")
    incident = body["incident"]
    assert incident["reference"] == "INC-1"
    assert incident["name"] == "Our database is sad"
    assert incident["summary"] == "Slow queries"
    assert incident["severity"]["id"] == MAJOR and incident["severity"]["name"] == "Major"
    assert incident["visibility"] == "public" and incident["mode"] == "standard"
    assert incident["creator"]["api_key"]["name"]
    assert incident["permalink"].endswith("/incidents/1")
    assert incident["created_at"] == incident["updated_at"]


def test_references_count_up(client: TestClient):
    refs = [new_incident(client, key=f"k{n}")["reference"] for n in range(3)]
    assert refs == ["INC-1", "INC-2", "INC-3"]


@pytest.mark.parametrize(
    ("missing", "code"),
    [("idempotency_key", "is_required"), ("visibility", "is_required"), ("name", "is_required")],
)
def test_create_requires_fields(client: TestClient, missing: str, code: str):
    payload = {"idempotency_key": "k", "visibility": "public", "name": "x", "severity_id": MINOR}
    del payload[missing]
    response = client.post("/v2/incidents", json=payload, headers=AUTH)
    assert_error(response, 422, code, missing)


def test_create_without_severity_uses_incidentios_documented_error(client: TestClient):
    payload = {"idempotency_key": "k", "visibility": "public", "name": "x"}
    body = assert_error(
        client.post("/v2/incidents", json=payload, headers=AUTH), 422, "is_required", "severity_id"
    )
    assert body["errors"][0]["message"] == "A severity is required to open an incident"


@pytest.mark.parametrize(
    ("field", "value"),
    [("visibility", "secret"), ("mode", "drill"), ("severity_id", "01NOPE")],
)
def test_create_rejects_bad_values(client: TestClient, field: str, value: str):
    payload = {"idempotency_key": "k", "visibility": "public", "name": "x", "severity_id": MINOR}
    payload[field] = value
    response = client.post("/v2/incidents", json=payload, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"field": field}
    assert client.get("/v2/incidents", headers=AUTH).json()["incidents"] == []


def test_create_rejects_non_json_and_non_objects(client: TestClient):
    bad_json = client.post("/v2/incidents", content=b"{nope", headers=AUTH)
    assert_error(bad_json, 400, "bad_request")
    not_object = client.post("/v2/incidents", json=["a"], headers=AUTH)
    assert_error(not_object, 422, "invalid_type")


# -- idempotency -----------------------------------------------------------------------


def test_same_key_returns_the_same_incident_and_opens_no_second(client: TestClient):
    first = new_incident(client, key="same")
    second = new_incident(client, key="same")
    assert second == first
    assert len(client.get("/v2/incidents", headers=AUTH).json()["incidents"]) == 1


def test_same_key_with_a_different_body_returns_the_original(client: TestClient):
    first = new_incident(client, key="same", name="Original")
    second = new_incident(client, key="same", name="Changed", severity_id=MAJOR)
    assert second["id"] == first["id"]
    assert second["name"] == "Original" and second["severity"]["id"] == MINOR


def test_different_keys_open_different_incidents(client: TestClient):
    assert new_incident(client, key="a")["id"] != new_incident(client, key="b")["id"]


# -- show ------------------------------------------------------------------------------


def test_show_by_id_and_by_reference_number(client: TestClient):
    created = new_incident(client)
    for ref in (created["id"], "1"):
        response = client.get(f"/v2/incidents/{ref}", headers=AUTH)
        assert response.status_code == 200
        assert_schema(response.json(), "IncidentsShowResultV2")
        assert response.json()["incident"] == created


def test_show_unknown_is_404(client: TestClient):
    assert_error(client.get("/v2/incidents/01UNKNOWN", headers=AUTH), 404, "not_found")


# -- list ------------------------------------------------------------------------------


def test_list_pages_newest_first_with_after_cursor(client: TestClient):
    ids = [new_incident(client, key=f"k{n}")["id"] for n in range(5)]
    seen, after = [], None
    while True:
        params = {"page_size": 2, **({"after": after} if after else {})}
        body = client.get("/v2/incidents", params=params, headers=AUTH).json()
        assert_schema(body, "IncidentsListResultV2")
        assert body["pagination_meta"]["total_record_count"] == 5
        seen += [i["id"] for i in body["incidents"]]
        after = body["pagination_meta"].get("after")
        if after is None:
            break
    assert seen == list(reversed(ids))


def test_list_oldest_first(client: TestClient):
    ids = [new_incident(client, key=f"k{n}")["id"] for n in range(3)]
    body = client.get("/v2/incidents?sort_by=created_at_oldest_first", headers=AUTH).json()
    assert [i["id"] for i in body["incidents"]] == ids
    assert body["pagination_meta"] == {"page_size": 25, "total_record_count": 3}


def test_list_leaves_out_test_incidents_unless_asked(client: TestClient):
    new_incident(client, key="real")
    drill = new_incident(client, key="drill", mode="test")
    default = client.get("/v2/incidents", headers=AUTH).json()["incidents"]
    assert drill["id"] not in [i["id"] for i in default]
    only_tests = client.get("/v2/incidents?mode[one_of]=test", headers=AUTH).json()["incidents"]
    assert [i["id"] for i in only_tests] == [drill["id"]]


def test_list_filters_by_severity(client: TestClient):
    new_incident(client, key="minor")
    major = new_incident(client, key="major", severity_id=MAJOR)
    found = client.get(f"/v2/incidents?severity[one_of]={MAJOR}", headers=AUTH).json()
    assert [i["id"] for i in found["incidents"]] == [major["id"]]
    rest = client.get(f"/v2/incidents?severity[not_in]={MAJOR}", headers=AUTH).json()
    assert major["id"] not in [i["id"] for i in rest["incidents"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=251", "page_size"),
        ("page_size=lots", "page_size"),
        ("after=01UNKNOWN", "after"),
        ("sort_by=random", "sort_by"),
    ],
)
def test_list_rejects_bad_parameters(client: TestClient, query: str, field: str):
    response = client.get(f"/v2/incidents?{query}", headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"field": field}


# -- edit ------------------------------------------------------------------------------


class SteppingClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@pytest.fixture
def clocked_client():
    app = create_emulator_app(EmulatorState(clock=SteppingClock()), api_keys=API_KEY)
    with TestClient(app) as client:
        yield client


def edit(client: TestClient, incident_id: str, **changes):
    return client.post(
        f"/v2/incidents/{incident_id}/actions/edit",
        json={"incident": changes, "notify_incident_channel": False},
        headers=AUTH,
    )


def test_edit_changes_only_given_fields(clocked_client: TestClient):
    created = new_incident(clocked_client, summary="first")
    response = edit(clocked_client, created["id"], name="Renamed", severity_id=MAJOR)
    assert response.status_code == 200
    assert_schema(response.json(), "IncidentsEditResultV2")
    edited = response.json()["incident"]
    assert edited["name"] == "Renamed" and edited["severity"]["id"] == MAJOR
    assert edited["summary"] == "first"
    assert edited["updated_at"] > created["updated_at"]
    assert edited["created_at"] == created["created_at"]
    shown = clocked_client.get(f"/v2/incidents/{created['id']}", headers=AUTH).json()
    assert shown["incident"] == edited


def test_edit_moves_status(client: TestClient):
    created = new_incident(client)
    closed = "01FCNDV6P870EA6S7TK1DSYD5P"
    edited = edit(client, created["id"], incident_status_id=closed).json()["incident"]
    assert edited["incident_status"]["category"] == "closed"


def test_edit_with_unknown_severity_changes_nothing(client: TestClient):
    created = new_incident(client)
    response = edit(client, created["id"], name="Renamed", severity_id="01NOPE")
    assert_error(response, 422, "not_found", "severity_id")
    shown = client.get(f"/v2/incidents/{created['id']}", headers=AUTH).json()["incident"]
    assert shown == created


def test_edit_requires_notify_flag_and_incident(client: TestClient):
    created = new_incident(client)
    url = f"/v2/incidents/{created['id']}/actions/edit"
    no_flag = client.post(url, json={"incident": {"name": "x"}}, headers=AUTH)
    assert_error(no_flag, 422, "is_required", "notify_incident_channel")
    no_incident = client.post(url, json={"notify_incident_channel": True}, headers=AUTH)
    assert_error(no_incident, 422, "is_required", "incident")


def test_edit_unknown_incident_is_404(client: TestClient):
    assert_error(edit(client, "01UNKNOWN", name="x"), 404, "not_found")
