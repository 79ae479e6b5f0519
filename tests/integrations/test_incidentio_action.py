"""Create Incident: the request it sends, what it emits, and the save-time checks."""

from __future__ import annotations

import httpx
import pytest
from incidentio_fakes import API_KEY, CREATED, SEVERITIES, error_body, make_context

from incidentflow.errors import PermanentError, RetryableError
from incidentflow.integrations.incidentio.action import CreateIncident
from incidentflow.integrations.incidentio.client import IncidentIORejected

ACTION = CreateIncident()
SEVERITY_ID = SEVERITIES["severities"][0]["id"]
CONFIG = {"name": "DB down (mirrored)", "summary": "slow queries", "severityId": SEVERITY_ID,
          "visibility": "private"}
INTEGRATION = {"apiKey": API_KEY, "baseUrl": "https://incident.example"}


async def test_sends_every_field_with_the_idempotency_key_and_bearer_token(api):
    await ACTION.execute(make_context(api, CONFIG))
    [request] = api.requests
    assert str(request.url) == "https://incident.example/v2/incidents"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert api.bodies() == [{"name": "DB down (mirrored)", "summary": "slow queries",
                             "severity_id": SEVERITY_ID, "visibility": "private",
                             "idempotency_key": "if-exec-1"}]


async def test_visibility_defaults_to_public_and_blank_summary_is_left_out(api):
    config = {"name": "x", "severityId": SEVERITY_ID, "summary": "  "}
    await ACTION.execute(make_context(api, config))
    body = api.bodies()[0]
    assert body["visibility"] == "public"
    assert "summary" not in body


async def test_emits_the_returned_incident_whole(api):
    [emission] = await ACTION.execute(make_context(api, CONFIG))
    assert emission.channel == "default"
    assert emission.event.type == "incident.incident"
    assert emission.event.data == CREATED["incident"]
    assert emission.event.timestamp == "2026-01-19T12:00:00Z"


@pytest.mark.parametrize("name", ["", "   ", None])
async def test_empty_name_fails_before_any_call(api, name):
    with pytest.raises(PermanentError, match="name resolved to an empty string"):
        await ACTION.execute(make_context(api, {**CONFIG, "name": name}))
    assert api.requests == []


async def test_non_string_name_from_a_whole_field_expression_is_sent_as_text(api):
    await ACTION.execute(make_context(api, {**CONFIG, "name": 404}))
    assert api.bodies()[0]["name"] == "404"


async def test_missing_integration_is_a_clear_error(api):
    with pytest.raises(PermanentError, match="needs an incident.io integration"):
        await ACTION.execute(make_context(api, CONFIG, integration=None))


async def test_bad_visibility_fails_before_any_call(api):
    with pytest.raises(PermanentError, match="visibility"):
        await ACTION.execute(make_context(api, {**CONFIG, "visibility": "secret"}))
    assert api.requests == []


async def test_retry_of_the_execution_reuses_its_key(api):
    action = CreateIncident(sleep=api.sleep)
    api.script("/v2/incidents", httpx.Response(503))
    for attempt in (1, 2):
        with pytest.raises(RetryableError):
            await action.execute(make_context(api, CONFIG, attempt=attempt))
    assert len(api.requests) == 6  # 3 quick tries inside each engine attempt
    assert {b["idempotency_key"] for b in api.bodies()} == {"if-exec-1"}


async def test_validation_error_surfaces_incident_io_reason(api):
    api.script("/v2/incidents", httpx.Response(422, json=error_body(
        422, "validation_error",
        {"code": "not_found", "message": "not found", "source": {"field": "severity_id"}})))
    with pytest.raises(IncidentIORejected, match=r"severity_id: not found \[request_id req-123\]"):
        await ACTION.execute(make_context(api, CONFIG))


async def test_check_remote_accepts_a_known_severity(api):
    result = await ACTION.check_remote("Open", CONFIG, INTEGRATION, api.client())
    assert result.errors == [] and result.warnings == []


async def test_check_remote_unknown_severity_names_node_field_and_valid_ones(api):
    result = await ACTION.check_remote("Open", {**CONFIG, "severityId": "nope"}, INTEGRATION,
                                       api.client())
    [problem] = result.errors
    assert (problem.node, problem.field) == ("Open", "severityId")
    assert "'nope'" in problem.message
    assert f"Minor ({SEVERITY_ID})" in problem.message


@pytest.mark.parametrize("failure", [httpx.Response(500), httpx.ConnectError("down"),
                                     httpx.Response(401, json=error_body(401, "x"))])
async def test_check_remote_outage_is_only_a_warning(api, failure):
    api.script("/v1/severities", failure)
    result = await ACTION.check_remote("Open", CONFIG, INTEGRATION, api.client())
    assert result.errors == []
    [warning] = result.warnings
    assert (warning.node, warning.field) == ("Open", "severityId")
    assert len(api.requests) == 1  # a save does not wait on retries


async def test_check_remote_skips_without_integration(api):
    result = await ACTION.check_remote("Open", CONFIG, None, api.client())
    assert (result.errors, result.warnings, api.requests) == ([], [], [])


def test_static_check_of_visibility():
    assert ACTION.check("Open", CONFIG) == []
    [problem] = ACTION.check("Open", {**CONFIG, "visibility": "internal"})
    assert (problem.node, problem.field) == ("Open", "visibility")


def test_declaration():
    assert (ACTION.type, ACTION.label, ACTION.integration) == (
        "incident.createIncident", "Create Incident", "incident")
    name, summary, severity, visibility, kind, status, mode, custom, roles = ACTION.fields
    assert (name.name, name.kind, name.required) == ("name", "template", True)
    assert (summary.name, summary.kind, summary.required) == ("summary", "template", False)
    assert (severity.name, severity.kind, severity.resource, severity.required) == (
        "severityId", "select", "severity", True)
    assert visibility.default == "public"
    assert [o.value for o in visibility.options] == ["public", "private"]
    assert (kind.name, kind.resource, status.name, status.resource) == (
        "incidentTypeId", "incident_type", "statusId", "incident_status")
    assert (mode.name, mode.default) == ("mode", "standard")
    assert [o.value for o in mode.options] == ["standard", "retrospective", "test", "tutorial"]
    assert (custom.name, custom.kind, custom.resource) == ("customFields", "object",
                                                            "custom_field")
    assert (roles.name, roles.kind) == ("roleAssignments", "object")
    assert ACTION.example_output["type"] == "incident.incident"
    assert ACTION.example_output["data"]["name"] == "Database connectivity issues"
