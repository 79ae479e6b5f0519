"""On Follow-up, On Alert and On Escalation: incident.io's other objects as triggers.

Each has its own webhook URL and signing secret (``setSecret``, as On Incident), takes
the public and private event types of its object (private ones fetched as the run's
first step, ``receiving.py``) and emits ``{"event_type": T, <object>: {...}}`` plus the
event's own fields (an escalation status update's statuses and actor).
"""

from __future__ import annotations

from typing import Any, ClassVar

from incidentflow.integrations.incidentio.event_types import (
    ALERT_KINDS,
    ESCALATION_KINDS,
    FOLLOW_UP_KINDS,
    EventKind,
    by_type,
)
from incidentflow.integrations.incidentio.receiving import (
    IncidentIOTrigger,
    events_field,
    self_trigger_field,
)

FOLLOW_UPS = by_type(FOLLOW_UP_KINDS)
ALERTS = by_type(ALERT_KINDS)
ESCALATIONS = by_type(ESCALATION_KINDS)


def _example(kind: EventKind, found: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind.emitted, "timestamp": "2026-01-19T12:00:00Z",
            "data": {"event_type": kind.incoming, kind.key: found}}


class OnFollowUp(IncidentIOTrigger):
    type = "incident.onFollowUp"
    label = "On Follow-up"
    description = "Starts a run when a follow-up is created or updated in incident.io."
    icon = "📝"
    listens_for = frozenset({"incident.follow_up"})  # what Create Follow-up creates
    kinds: ClassVar[dict[str, EventKind]] = FOLLOW_UPS
    default_events = ("public_incident.follow_up_created_v2",
                      "public_incident.follow_up_updated_v2")
    fields = (events_field(FOLLOW_UPS, default_events), self_trigger_field("a follow-up"))
    example_output: ClassVar[dict[str, Any] | None] = _example(FOLLOW_UP_KINDS[0], {
        "id": "01FCNDV6P870EA6S7TK1DSYDG0", "incident_id": "01FDAG4SAP5TYPT98WGR2N7W91",
        "title": "Write the post-mortem", "status": "outstanding",
        "created_at": "2026-01-19T12:00:00Z", "updated_at": "2026-01-19T12:00:00Z"})


class OnAlert(IncidentIOTrigger):
    type = "incident.onAlert"
    label = "On Alert"
    description = "Starts a run when an alert is created or resolved in incident.io."
    icon = "🚨"
    listens_for = frozenset({"incident.alert"})
    kinds: ClassVar[dict[str, EventKind]] = ALERTS
    default_events = ("public_alert.alert_created_v1", "public_alert.alert_resolved_v1")
    fields = (events_field(ALERTS, default_events), self_trigger_field("an alert"))
    example_output: ClassVar[dict[str, Any] | None] = _example(ALERT_KINDS[0], {
        "id": "01GW2G3V0S59R238FAHPDS1R66", "alert_source_id": "01GW2G3V0S59R238FAHPDS1R67",
        "title": "CPU above 75% on payments", "status": "firing",
        "deduplication_key": "4293868629", "created_at": "2026-01-19T12:00:00Z",
        "updated_at": "2026-01-19T12:00:00Z"})


class OnEscalation(IncidentIOTrigger):
    type = "incident.onEscalation"
    label = "On Escalation"
    description = ("Starts a run when an escalation is created or changes status in "
                   "incident.io.")
    icon = "📣"
    listens_for = frozenset({"incident.escalation"})  # what Create Escalation creates
    kinds: ClassVar[dict[str, EventKind]] = ESCALATIONS
    default_events = ("public_escalation.escalation_created_v1",
                      "public_escalation.escalation_status_updated_v1")
    fields = (events_field(ESCALATIONS, default_events), self_trigger_field("an escalation"))
    example_output: ClassVar[dict[str, Any] | None] = _example(ESCALATION_KINDS[0], {
        "id": "01G0J1EXE7AXZ2C93K61WBPYEH", "title": "Database CPU above 90%",
        "status": "pending", "escalation_path_id": "01G0J1EXE7AXZ2C93K61WBPYEH",
        "created_at": "2026-01-19T12:00:00Z", "updated_at": "2026-01-19T12:00:00Z"})
