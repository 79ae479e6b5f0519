"""The emulated organisation's configuration: severities, statuses, incident types,
roles, actors, users, custom fields, escalation paths and alert sources.

Ids are fixed so tests and demo canvases can name them. The Minor severity and Triage
status reuse the ids from incident.io's own examples.
"""

from __future__ import annotations

from typing import Any

SEEDED_AT = "2021-08-17T13:28:57.801578Z"
SLACK_TEAM_ID = "T02A1FSLE8J"
ORGANISATION_SLUG = "emulator"


def _stamped(**fields: Any) -> dict[str, Any]:
    return {**fields, "created_at": SEEDED_AT, "updated_at": SEEDED_AT}


def default_severities() -> list[dict[str, Any]]:
    """Ordered by rank; lower ranks are less severe, as in incident.io."""
    return [
        _stamped(
            id="01FCNDV6P870EA6S7TK1DSYDG0",
            name="Minor",
            description="Issues with **low impact**.",
            rank=1,
        ),
        _stamped(
            id="01FCNDV6P870EA6S7TK1DSYDG1",
            name="Major",
            description="Issues causing **significant impact**. Immediate response is usually "
            "required.",
            rank=2,
        ),
        _stamped(
            id="01FCNDV6P870EA6S7TK1DSYDG2",
            name="Critical",
            description="Issues causing **very high impact** to customers. Immediate response "
            "is required.",
            rank=3,
        ),
    ]


def _status(status_id: str, name: str, category: str, rank: int, description: str) -> dict:
    return _stamped(
        id=status_id, name=name, category=category, rank=rank, description=description
    )


def default_statuses() -> list[dict[str, Any]]:
    return [
        _status("01FCNDV6P870EA6S7TK1DSYD5H", "Triage", "triage", 1,
                "We're working out whether this is an incident."),
        _status("01FCNDV6P870EA6S7TK1DSYD5J", "Investigating", "live", 2,
                "We're working out what's going on."),
        _status("01FCNDV6P870EA6S7TK1DSYD5K", "Fixing", "live", 3,
                "We know what's wrong and are fixing it."),
        _status("01FCNDV6P870EA6S7TK1DSYD5M", "Monitoring", "live", 4,
                "A fix is out; we're watching to confirm it worked."),
        _status("01FCNDV6P870EA6S7TK1DSYD5N", "Documenting", "learning", 5,
                "Impact has been **fully mitigated**, and we're ready to learn from this "
                "incident."),
        _status("01FCNDV6P870EA6S7TK1DSYD5P", "Closed", "closed", 6,
                "The incident is over."),
    ]


# New incidents start here unless the request names a status.
DEFAULT_STATUS_NAME = "Investigating"


def default_incident_type() -> dict[str, Any]:
    return _stamped(
        id="01FH5TZRWMNAFB0DZ23FD1TV96",
        name="Default",
        description="Used when no other incident type is chosen.",
        is_default=True,
        private_incidents_only=False,
        create_in_triage="optional",
    )


def lead_role() -> dict[str, Any]:
    return _stamped(
        id="01FCNDV6P870EA6S7TK1DSYDG3",
        name="Incident Lead",
        shortform="lead",
        description="The person currently coordinating the incident",
        instructions="Take point on the incident; Make sure people are clear on "
        "responsibilities",
        role_type="lead",
        required=False,
    )


def api_key_actor() -> dict[str, Any]:
    return {"api_key": {"id": "01FCNDV6P870EA6S7TK1DSYDG4", "name": "Emulator API key"}}


def dashboard_user_actor() -> dict[str, Any]:
    """Who opens incidents through ``POST /_emulator/incidents`` (the 'web UI')."""
    user = {
        "id": "01FCNDV6P870EA6S7TK1DSYDG5",
        "name": "Emma Ulator",
        "email": "emma@emulator.incident.test",
        "role": "responder",
        "slack_user_id": "U02AYNF2XJM",
    }
    return {"user": user}


def default_incident_types() -> list[dict[str, Any]]:
    security = _stamped(
        id="01FH5TZRWMNAFB0DZ23FD1TV97",
        name="Security",
        description="Security incidents: private by default.",
        is_default=False,
        private_incidents_only=True,
        create_in_triage="optional",
    )
    return [default_incident_type(), security]


def _user(user_id: str, name: str, email: str, slack_id: str, role: str) -> dict[str, Any]:
    return {"id": user_id, "name": name, "email": email, "role": role,
            "slack_user_id": slack_id}


def default_users() -> list[dict[str, Any]]:
    """The organisation's people (UserV2); the dashboard user first."""
    return [
        dashboard_user_actor()["user"],
        _user("01FCNDV6P870EA6S7TK1DSYDH1", "Lisa Karlin Curtis", "lisa@emulator.incident.test",
              "U02AYNF2XJN", "owner"),
        _user("01FCNDV6P870EA6S7TK1DSYDH2", "Ravi Oncall", "ravi@emulator.incident.test",
              "U02AYNF2XJP", "responder"),
    ]


def user_with_roles(user: dict[str, Any]) -> dict[str, Any]:
    """A UserV2 as ``GET /v2/users`` lists it (UserWithRolesV2)."""
    base_role = {"id": "01FCNDV6P870EA6S7TK1DSYDJ0", "name": "Responder", "slug": "responder",
                 "description": "Can respond to incidents."}
    return {**user, "base_role": base_role, "custom_roles": [], "is_active": True,
            "seats": {"on_call": "full_access", "response": "full_access"}}


AFFECTED_TEAM_FIELD = "01FCNDV6P870EA6S7TK1DSYDK0"
CUSTOMER_IMPACT_FIELD = "01FCNDV6P870EA6S7TK1DSYDK1"


def default_custom_fields() -> list[dict[str, Any]]:
    return [
        _stamped(id=AFFECTED_TEAM_FIELD, name="Affected Team", field_type="single_select",
                 description="Which team is impacted by this issue"),
        _stamped(id=CUSTOMER_IMPACT_FIELD, name="Customer impact", field_type="text",
                 description="What customers see"),
    ]


def default_custom_field_options() -> list[dict[str, Any]]:
    return [
        {"id": "01FCNDV6P870EA6S7TK1DSYDK2", "custom_field_id": AFFECTED_TEAM_FIELD,
         "value": "Payments", "sort_key": 10},
        {"id": "01FCNDV6P870EA6S7TK1DSYDK3", "custom_field_id": AFFECTED_TEAM_FIELD,
         "value": "Platform", "sort_key": 20},
    ]


def default_escalation_paths() -> list[dict[str, Any]]:
    """Two paths, each paging one level of users (EscalationPathV2, the parts we use)."""
    def path(path_id: str, name: str, user_id: str) -> dict[str, Any]:
        level = {"id": path_id[:-1] + "L", "type": "level",
                 "level": {"targets": [{"id": user_id, "type": "user", "urgency": "high"}],
                           "time_to_ack_seconds": 300}}
        return {"id": path_id, "name": name, "path": [level], "team_ids": []}

    return [path("01FCNDV6P870EA6S7TK1DSYDM0", "Urgent Support", "01FCNDV6P870EA6S7TK1DSYDH2"),
            path("01FCNDV6P870EA6S7TK1DSYDM1", "Database on-call", "01FCNDV6P870EA6S7TK1DSYDH1")]


ALERT_SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"
ALERT_SOURCE_TOKEN = "emulator-alert-token"


def default_alert_sources() -> list[dict[str, Any]]:
    """One HTTP alert source; ``secret_token`` is what its events authenticate with."""
    return [{
        "id": ALERT_SOURCE_ID,
        "name": "Emulated monitoring",
        "source_type": "http",
        "secret_token": ALERT_SOURCE_TOKEN,
        "template": {"title": {"label": "Title", "reference": "title"},
                     "description": {"label": "Description", "reference": "description"},
                     "attributes": [], "expressions": [], "is_private": False},
    }]
