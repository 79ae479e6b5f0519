"""The incident.io integration: validation statuses and the severity resource."""

from __future__ import annotations

import httpx
import pytest
from incidentio_fakes import API_KEY, SEVERITIES, error_body

from incidentflow.errors import NotFound
from incidentflow.integrations.base import Resource
from incidentflow.integrations.incidentio import IncidentIntegration
from incidentflow.registry import Registry

INTEGRATION = IncidentIntegration()
CONFIG = {"apiKey": API_KEY, "baseUrl": "https://incident.example"}


async def test_ready_when_severities_can_be_listed(api):
    status = await INTEGRATION.validate(CONFIG, api.client())
    assert (status.status, status.reason) == ("ready", "")
    assert api.requests[0].url.path == "/v1/severities"


async def test_base_url_defaults_to_incident_io(api):
    await INTEGRATION.validate({"apiKey": API_KEY}, api.client())
    assert api.requests[0].url.host == "api.incident.io"


async def test_401_says_the_key_was_rejected(api):
    api.script("/v1/severities", httpx.Response(401, json=error_body(401, "authentication_error")))
    status = await INTEGRATION.validate(CONFIG, api.client())
    assert status.status == "error"
    assert status.reason.startswith("API key rejected by incident.io (401)")


async def test_403_names_the_missing_permission(api):
    api.script("/v1/severities", httpx.Response(403, json=error_body(403, "authorization_error")))
    status = await INTEGRATION.validate(CONFIG, api.client())
    assert status.status == "error"
    assert "View data, like public incidents and organisation settings" in status.reason


async def test_unreachable_says_so(api):
    api.script("/v1/severities", httpx.ConnectError("refused"))
    status = await INTEGRATION.validate(CONFIG, httpx.AsyncClient(
        transport=httpx.MockTransport(api.handler)))
    assert status.status == "error"
    assert "unreachable" in status.reason


async def test_missing_api_key_is_an_error_status(api):
    status = await INTEGRATION.validate({"apiKey": ""}, api.client())
    assert status.status == "error" and "API key" in status.reason
    assert api.requests == []


async def test_severities_are_listed_as_resources(api):
    resources = await INTEGRATION.list_resources(CONFIG, "severity", api.client())
    assert resources == [Resource("severity", s["id"], s["name"])
                         for s in SEVERITIES["severities"]]


async def test_unknown_resource_type(api):
    with pytest.raises(NotFound):
        await INTEGRATION.list_resources(CONFIG, "team", api.client())


def test_declaration_and_registry():
    assert (INTEGRATION.type, INTEGRATION.label) == ("incident", "incident.io")
    assert INTEGRATION.secret_fields() == ("apiKey",)
    base_url = next(f for f in INTEGRATION.fields if f.name == "baseUrl")
    assert (base_url.kind, base_url.required, base_url.default) == (
        "text", False, "https://api.incident.io")
    assert INTEGRATION.resource_types == (
        "severity", "incident_status", "incident_type", "custom_field", "escalation_path",
        "user", "alert_source")
    for permission in ("View data, like public incidents and organisation settings",
                       "Create incidents",
                       "View all incident data, including private incidents"):
        assert permission in INTEGRATION.instructions
    registry = Registry()
    registry.add_integration(INTEGRATION)
    assert set(registry.components) >= {
        "incident.onIncident", "incident.onFollowUp", "incident.onAlert",
        "incident.onEscalation", "incident.createIncident", "incident.getIncident",
        "incident.updateIncident", "incident.listIncidents", "incident.createFollowUp",
        "incident.createEscalation", "incident.sendAlertEvent", "incident.resolveAlert"}
