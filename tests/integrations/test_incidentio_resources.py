"""The organisation's values for pickers and for the checks at save: listed from the
emulator, cached briefly per HTTP client, and every named id checked."""

from __future__ import annotations

import pytest
from emulated_incidentio import BASE_URL, FULL_KEY, NARROW_KEY

from incidentflow.emulator import catalog
from incidentflow.integrations.incidentio import IncidentIntegration, resources
from incidentflow.integrations.incidentio.action import (
    CreateEscalation,
    CreateIncident,
    SendAlertEvent,
    UpdateIncident,
)

INTEGRATION = IncidentIntegration()
CONFIG = {"apiKey": FULL_KEY, "baseUrl": BASE_URL}
MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"


@pytest.mark.parametrize(("kind", "names"), [
    ("severity", ["Minor", "Major", "Critical"]),
    ("incident_status", ["Triage", "Investigating", "Fixing", "Monitoring", "Documenting",
                         "Closed"]),
    ("incident_type", ["Default", "Security"]),
    ("custom_field", ["Affected Team", "Customer impact"]),
    ("escalation_path", ["Urgent Support", "Database on-call"]),
    ("user", ["Emma Ulator", "Lisa Karlin Curtis", "Ravi Oncall"]),
    ("alert_source", ["Emulated monitoring"]),
])
async def test_every_resource_type_is_listed(emu, http, kind, names):
    listed = await INTEGRATION.list_resources(CONFIG, kind, http)
    assert [r.name for r in listed] == names
    assert {r.type for r in listed} == {kind}


async def test_custom_fields_come_with_their_options_and_users_with_email(emu, http):
    [team, impact] = await INTEGRATION.list_resources(CONFIG, "custom_field", http)
    assert team.as_dict()["fieldType"] == "single_select"
    assert [o["name"] for o in team.as_dict()["options"]] == ["Payments", "Platform"]
    assert impact.as_dict()["options"] == []
    [ravi] = await INTEGRATION.list_resources(CONFIG, "user", http, query="RAVI@")
    assert ravi.as_dict()["email"] == "ravi@emulator.incident.test"


async def test_users_are_searchable_by_name(emu, http):
    found = await INTEGRATION.list_resources(CONFIG, "user", http, query="lisa")
    assert [u.name for u in found] == ["Lisa Karlin Curtis"]
    assert await INTEGRATION.list_resources(CONFIG, "user", http, query="nobody") == []


async def test_users_are_followed_across_pages(emu, http, monkeypatch):
    monkeypatch.setitem(resources.LISTINGS, "user", resources.Listing("/v2/users", "users", 2))
    assert len(await INTEGRATION.list_resources(CONFIG, "user", http)) == 3
    assert len(emu.calls("GET", "/v2/users")) == 2


async def test_a_list_is_asked_once_while_fresh(emu, http):
    for _ in range(6):
        await resources.list_raw(CONFIG, "severity", http)
    assert len(emu.calls("GET", "/v1/severities")) == 1


async def test_the_cache_expires_and_is_per_client_and_per_key(emu, http):
    now = [1000.0]
    await resources.list_raw(CONFIG, "severity", http, clock=lambda: now[0])
    now[0] += resources.TTL_SECONDS + 1
    await resources.list_raw(CONFIG, "severity", http, clock=lambda: now[0])
    await resources.list_raw({**CONFIG, "apiKey": NARROW_KEY}, "severity", http,
                             clock=lambda: now[0])
    async with emu.http() as other:
        await resources.list_raw(CONFIG, "severity", other, clock=lambda: now[0])
    assert len(emu.calls("GET", "/v1/severities")) == 4


async def test_failures_are_not_cached(emu, http):
    emu.fail_next(500)
    with pytest.raises(Exception, match="unavailable"):
        await resources.list_raw(CONFIG, "severity", http, max_attempts=1)
    assert len(await resources.list_raw(CONFIG, "severity", http)) == 3


# -- checks at save --------------------------------------------------------------------


async def check(action, config, http):
    return await action.check_remote("Node", config, CONFIG, http)


async def test_known_ids_pass_and_expressions_are_left_for_run_time(emu, http):
    config = {"name": "x", "severityId": MAJOR, "statusId": "01FCNDV6P870EA6S7TK1DSYD5J",
              "incidentTypeId": "01FH5TZRWMNAFB0DZ23FD1TV96",
              "customFields": {catalog.AFFECTED_TEAM_FIELD: "Platform",
                               catalog.CUSTOMER_IMPACT_FIELD: "{{ root.data.x }}"}}
    result = await check(CreateIncident(), config, http)
    assert (result.errors, result.warnings) == ([], [])


@pytest.mark.parametrize(("action", "config", "field", "message"), [
    (UpdateIncident(), {"incident": "x", "statusId": "nope"}, "statusId",
     "incident status 'nope' does not exist in incident.io; valid: Triage ("),
    (CreateIncident(), {"severityId": MAJOR, "incidentTypeId": "nope"}, "incidentTypeId",
     "incident type 'nope' does not exist"),
    (CreateIncident(), {"severityId": MAJOR, "customFields": {"nope": "x"}},
     "customFields.nope", "custom field 'nope' does not exist"),
    (CreateIncident(), {"severityId": MAJOR,
                        "customFields": {catalog.AFFECTED_TEAM_FIELD: ["Platform", "Sales"]}},
     f"customFields.{catalog.AFFECTED_TEAM_FIELD}[1]",
     "'Sales' is not an option of 'Affected Team'; options: Payments, Platform"),
    (CreateEscalation(), {"title": "t", "userIds": [catalog.default_users()[0]["id"], "nope"]},
     "userIds[1]", "user 'nope' does not exist"),
    (CreateEscalation(), {"title": "t", "escalationPathId": "nope"}, "escalationPathId",
     "escalation path 'nope' does not exist in incident.io; valid: Urgent Support ("),
    (SendAlertEvent(), {"alertSourceConfigId": "nope", "token": "{{ secrets.T }}"},
     "alertSourceConfigId", "alert source 'nope' does not exist"),
])
async def test_unknown_ids_are_errors_naming_node_and_field(emu, http, action, config, field,
                                                            message):
    result = await check(action, config, http)
    [problem] = result.errors
    assert (problem.node, problem.field) == ("Node", field)
    assert message in problem.message


async def test_an_outage_at_save_is_only_a_warning_per_field(emu, http):
    emu.fail_next(503, count=10)
    result = await check(UpdateIncident(), {"incident": "x", "severityId": MAJOR,
                                            "statusId": "s"}, http)
    assert result.errors == []
    assert [w.field for w in result.warnings] == ["severityId", "statusId"]
    assert len(emu.state.requests) == 2  # one attempt each: a save does not wait on retries
