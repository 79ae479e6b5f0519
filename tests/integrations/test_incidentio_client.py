"""The thin incident.io client: auth, bodies, error messages, retries."""

from __future__ import annotations

import httpx
import pytest
from incidentio_fakes import API_KEY, CREATED, SEVERITIES, error_body

from incidentflow.errors import ExecutionError, PermanentError, RetryableError
from incidentflow.integrations.incidentio.client import (
    APIKeyRejected,
    IncidentIOClient,
    IncidentIOError,
    IncidentIORejected,
    IncidentIOUnavailable,
    PermissionMissing,
)

NO_NETWORK = httpx.MockTransport(lambda request: httpx.Response(599))


def client_for(api, **options) -> IncidentIOClient:
    return IncidentIOClient(api.client(), API_KEY, "https://incident.example/", sleep=api.sleep,
                            **options)


async def create(client: IncidentIOClient, **overrides):
    values = {"name": "DB down", "summary": "slow", "severity_id": "sev-1",
              "visibility": "public", "idempotency_key": "if-exec-1"}
    values.update(overrides)
    return await client.create_incident(**values)


async def test_list_severities_uses_bearer_auth_and_base_url(api):
    severities = await client_for(api).list_severities()
    assert severities == SEVERITIES["severities"]
    [request] = api.requests
    assert request.method == "GET"
    assert str(request.url) == "https://incident.example/v1/severities"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


def test_default_base_url():
    client = IncidentIOClient(httpx.AsyncClient(transport=NO_NETWORK), API_KEY)
    assert client.base_url == "https://api.incident.io"


@pytest.mark.parametrize("key", ["", "   "])
def test_missing_api_key_is_a_clear_permanent_error(key):
    with pytest.raises(PermanentError, match="no API key"):
        IncidentIOClient(httpx.AsyncClient(transport=NO_NETWORK), key)


async def test_create_incident_sends_the_payload_and_keeps_the_incident_whole(api):
    incident = await create(client_for(api))
    assert incident == CREATED["incident"]
    [request] = api.requests
    assert (request.method, request.url.path) == ("POST", "/v2/incidents")
    assert api.bodies() == [{"name": "DB down", "summary": "slow", "severity_id": "sev-1",
                             "visibility": "public", "idempotency_key": "if-exec-1"}]


async def test_unknown_fields_and_enum_values_pass_through(api):
    novel = {**CREATED["incident"], "visibility": "internal", "brand_new_field": {"x": 1}}
    api.script("/v2/incidents", httpx.Response(200, json={"incident": novel}))
    assert await create(client_for(api)) == novel


async def test_empty_summary_is_not_sent(api):
    await create(client_for(api), summary=None)
    assert "summary" not in api.bodies()[0]


async def test_429_then_success_honours_retry_after(api):
    api.script("/v2/incidents",
               httpx.Response(429, headers={"Retry-After": "2"},
                              json=error_body(429, "too_many_requests")),
               httpx.Response(200, json=CREATED))
    assert await create(client_for(api)) == CREATED["incident"]
    assert api.sleeps == [2.0]
    assert len(api.requests) == 2


async def test_5xx_is_retried_with_the_same_idempotency_key(api):
    api.script("/v2/incidents", httpx.Response(500), httpx.Response(503),
               httpx.Response(200, json=CREATED))
    assert await create(client_for(api)) == CREATED["incident"]
    assert [b["idempotency_key"] for b in api.bodies()] == ["if-exec-1"] * 3
    assert api.sleeps == [0.5, 1.0]  # exponential backoff


async def test_network_errors_and_timeouts_are_retried(api):
    api.script("/v1/severities", httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
               httpx.Response(200, json=SEVERITIES))
    assert await client_for(api).list_severities() == SEVERITIES["severities"]
    assert len(api.requests) == 3


async def test_after_the_quick_retries_the_engine_takes_over(api):
    api.script("/v2/incidents", httpx.Response(502))
    with pytest.raises(IncidentIOUnavailable) as caught:
        await create(client_for(api))
    assert isinstance(caught.value, RetryableError)
    assert len(api.requests) == 3
    assert "502" in str(caught.value)


async def test_long_retry_after_is_handed_to_the_engine_at_once(api):
    api.script("/v2/incidents", httpx.Response(429, headers={"Retry-After": "60"}))
    with pytest.raises(IncidentIOUnavailable) as caught:
        await create(client_for(api))
    assert caught.value.retry_after == 60.0
    assert len(api.requests) == 1 and api.sleeps == []


async def test_final_429_carries_retry_after(api):
    api.script("/v1/severities", httpx.Response(429, headers={"Retry-After": "1"}))
    with pytest.raises(IncidentIOUnavailable) as caught:
        await client_for(api, max_attempts=2).list_severities()
    assert caught.value.retry_after == 1.0
    assert api.sleeps == [1.0]


async def test_422_message_carries_message_code_and_request_id(api):
    body = error_body(422, "validation_error",
                      {"code": "not_found", "message": "not found",
                       "source": {"field": "severity_id"}})
    api.script("/v2/incidents", httpx.Response(422, json=body))
    with pytest.raises(IncidentIORejected) as caught:
        await create(client_for(api))
    assert str(caught.value) == (
        "incident.io rejected the request (422 validation_error): severity_id: not found "
        "[request_id req-123]"
    )
    assert caught.value.request_id == "req-123"
    assert caught.value.details["body"] == body
    assert len(api.requests) == 1  # a 4xx is never retried


async def test_several_errors_are_all_listed(api):
    body = error_body(422, "validation_error",
                      {"code": "is_required", "message": "A name is required",
                       "source": {"field": "name"}},
                      {"code": "invalid", "message": "bad visibility"})
    api.script("/v2/incidents", httpx.Response(422, json=body))
    with pytest.raises(IncidentIORejected, match="name: A name is required; bad visibility"):
        await create(client_for(api))


async def test_401_says_the_api_key_was_rejected(api):
    api.script("/v1/severities", httpx.Response(401, json=error_body(401, "authentication_error")))
    with pytest.raises(APIKeyRejected, match=r"API key rejected by incident.io \(401\)"):
        await client_for(api).list_severities()


async def test_403_on_severities_names_the_view_permission(api):
    api.script("/v1/severities", httpx.Response(403, json=error_body(403, "authorization_error")))
    with pytest.raises(PermissionMissing,
                       match="View data, like public incidents and organisation settings"):
        await client_for(api).list_severities()


async def test_403_on_create_names_the_create_permission(api):
    api.script("/v2/incidents", httpx.Response(403, text="nope"))
    with pytest.raises(PermissionMissing, match='"Create incidents"') as caught:
        await create(client_for(api), visibility="private")
    assert "View all incident data, including private incidents" in str(caught.value)


async def test_non_json_success_is_an_error(api):
    api.script("/v1/severities", httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(IncidentIOError, match="without JSON"):
        await client_for(api).list_severities()


def test_exception_tree():
    assert issubclass(IncidentIOError, ExecutionError)
    assert issubclass(IncidentIOUnavailable, IncidentIOError)
    assert issubclass(IncidentIOUnavailable, RetryableError)
    assert issubclass(IncidentIORejected, PermanentError)
    assert issubclass(APIKeyRejected, IncidentIORejected)
    assert issubclass(PermissionMissing, IncidentIORejected)


async def test_from_config_trims_a_pasted_key_and_defaults_the_base_url(api):
    client = IncidentIOClient.from_config({"apiKey": f" {API_KEY}\n"}, api.client())
    await client.list_severities()
    assert str(api.requests[0].url) == "https://api.incident.io/v1/severities"
    assert api.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
