"""What the catch-up poll would start for one listed incident (pure): the event a
webhook would have brought, only if the node selected it and its filters pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incidentflow.engine.catch_up import caught_up_event
from incidentflow.integrations.incidentio.catch_up import change_of, polls, read

NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
CREATED = "public_incident.incident_created_v2"
UPDATED = "public_incident.incident_updated_v2"
OPENED = {"id": "01INC", "created_at": "2026-01-19T11:00:00Z",
          "updated_at": "2026-01-19T11:00:00Z", "mode": "standard", "visibility": "public"}
EDITED = {**OPENED, "updated_at": "2026-01-19T11:30:00Z"}


@pytest.mark.parametrize("incident, events, emitted", [
    (OPENED, [CREATED, UPDATED], "incident.incident.created"),
    (EDITED, [CREATED, UPDATED], "incident.incident.updated"),
    (OPENED, [UPDATED], None),  # the change is a creation, not selected
    (EDITED, [CREATED], None),
    ({**EDITED, "mode": "test"}, [CREATED, UPDATED], None),  # filtered by default
    ({**EDITED, "visibility": "private"}, [CREATED, UPDATED], None),  # left to webhooks
    ({"id": "01INC"}, [CREATED, UPDATED], None),  # no updated_at: nothing to dedupe on
])
def test_the_event_a_lost_webhook_would_have_brought(incident, events, emitted):
    event = caught_up_event({"events": events}, incident, NOW)
    assert (event.type if event else None) == emitted
    if event is not None:
        assert event.data["incident"] == incident
        assert event.data["event_type"] in events
        assert event.timestamp == "2026-01-19T12:00:00Z"


def test_a_change_is_the_incident_id_and_its_updated_at_as_sent():
    assert change_of({"incident": EDITED}) == ("01INC", "2026-01-19T11:30:00Z")
    assert change_of({"incident": {"id": "01INC"}}) is None  # a private pointer
    assert change_of(None) is None


def test_only_on_incident_nodes_with_catch_up_on_poll():
    on = {"catchUp": {"enabled": True, "everyMinutes": 7}}
    assert polls("incident.onIncident", on) and read(on).every_minutes == 7
    assert not polls("incident.onIncident", {"catchUp": {"enabled": False}})
    assert not polls("incident.onIncident", {})
    assert not polls("incident.onAlert", on)
