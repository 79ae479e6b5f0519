"""The emulated organisation's configuration: severities, statuses, roles, actors.

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
