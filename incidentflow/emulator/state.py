"""Everything the emulator remembers, in memory: one organisation's incidents and the
records tests read back (requests received, webhook endpoints, deliveries, faults).

All mutation happens on the event loop without awaiting in between, so no locks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incidentflow.emulator import catalog
from incidentflow.emulator.ids import format_timestamp, new_ulid, utc_now
from incidentflow.emulator.incident_details import (
    IncidentDetails,
    Organisation,
    custom_field_entries,
    resolve_incident_type,
    role_assignments,
)
from incidentflow.emulator.incidents import (
    apply_edit,
    build_incident,
    resolve_severity,
    resolve_status,
)
from incidentflow.emulator.problems import not_found


@dataclass
class WebhookEndpoint:
    id: str
    url: str
    secret: str
    # Empty means every event type, like an endpoint subscribed to everything.
    event_types: tuple[str, ...] = ()

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def public(self) -> dict[str, Any]:
        """The secret is returned: this is a local test tool, tests need it to verify."""
        return {
            "id": self.id,
            "url": self.url,
            "secret": self.secret,
            "event_types": list(self.event_types),
        }


@dataclass
class Attempt:
    number: int
    at: str
    webhook_timestamp: int
    status_code: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Delivery:
    """One webhook message to one endpoint; ``id`` is the webhook-id on every attempt."""

    id: str
    endpoint_id: str
    url: str
    event_type: str
    body: bytes
    status: str = "pending"  # pending -> delivered | failed
    attempts: list[Attempt] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "endpoint_id": self.endpoint_id,
            "url": self.url,
            "event_type": self.event_type,
            "status": self.status,
            "payload": self.body.decode(),
            "attempts": [a.as_dict() for a in self.attempts],
        }


@dataclass
class EmulatorState:
    severities: list[dict[str, Any]] = field(default_factory=catalog.default_severities)
    statuses: list[dict[str, Any]] = field(default_factory=catalog.default_statuses)
    incident_types: list[dict[str, Any]] = field(default_factory=catalog.default_incident_types)
    users: list[dict[str, Any]] = field(default_factory=catalog.default_users)
    custom_fields: list[dict[str, Any]] = field(default_factory=catalog.default_custom_fields)
    custom_field_options: list[dict[str, Any]] = field(
        default_factory=catalog.default_custom_field_options)
    escalation_paths: list[dict[str, Any]] = field(
        default_factory=catalog.default_escalation_paths)
    alert_sources: list[dict[str, Any]] = field(default_factory=catalog.default_alert_sources)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    escalation_keys: dict[str, str] = field(default_factory=dict)  # key -> escalation id
    alerts: list[dict[str, Any]] = field(default_factory=list)
    clock: Callable[[], datetime] = utc_now
    incidents: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    idempotency_keys: dict[str, str] = field(default_factory=dict)  # key -> incident id
    requests: list[dict[str, Any]] = field(default_factory=list)
    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    # Seconds a create call waits, after sending its incident_created webhook, before it
    # answers (0: answer at once). incident.io may send the webhook as it answers; this
    # makes the webhook overtake the answer every time (POST /_emulator/timing).
    webhook_lead_seconds: float = 0.0

    def now(self) -> str:
        return format_timestamp(self.clock())

    def clear(self) -> None:
        """Forget incidents, follow-ups, escalations, alerts and records; the
        organisation's configuration and the endpoints stay."""
        self.incidents.clear()
        self.idempotency_keys.clear()
        self.follow_ups.clear()
        self.escalations.clear()
        self.escalation_keys.clear()
        self.alerts.clear()
        self.requests.clear()
        self.deliveries.clear()

    # -- incidents ---------------------------------------------------------------------

    def incident_for_key(self, idempotency_key: str) -> dict[str, Any] | None:
        incident_id = self.idempotency_keys.get(idempotency_key)
        return self.find_incident(incident_id) if incident_id else None

    def open_incident(
        self, payload: dict[str, Any], creator: dict[str, Any], permalink_base: str
    ) -> dict[str, Any]:
        """Create from a validated payload; raises ApiProblem for unknown references."""
        severity = resolve_severity(self.severities, payload.get("severity_id"))
        status = resolve_status(self.statuses, payload.get("incident_status_id"))
        details = IncidentDetails(
            incident_type=resolve_incident_type(self.incident_types,
                                                payload.get("incident_type_id")),
            custom_field_entries=custom_field_entries(self.organisation(), payload),
            role_assignments=role_assignments(self.users, payload),
        )
        number = len(self.incidents) + 1
        incident = build_incident(
            details=details,
            incident_id=new_ulid(),
            number=number,
            payload=payload,
            severity=severity,
            status=status,
            creator=creator,
            permalink=f"{permalink_base.rstrip('/')}/incidents/{number}",
            timestamp=self.now(),
        )
        self.incidents.append(incident)
        if payload.get("idempotency_key"):
            self.idempotency_keys[payload["idempotency_key"]] = incident["id"]
        return incident

    def find_incident(self, id_or_number: str) -> dict[str, Any] | None:
        """By full id, or by the numeric part of the reference (INC-123 -> "123")."""
        for incident in self.incidents:
            if id_or_number in (incident["id"], incident["reference"].removeprefix("INC-")):
                return incident
        return None

    def get_incident(self, id_or_number: str) -> dict[str, Any]:
        incident = self.find_incident(id_or_number)
        if incident is None:
            raise not_found(f"No incident found with id {id_or_number!r}")
        return incident

    def edit_incident(self, incident_id: str, changes: dict[str, Any]) -> tuple[dict, bool]:
        incident = self.get_incident(incident_id)
        changed = apply_edit(incident, changes, self.organisation())
        if changed:
            incident["updated_at"] = self.now()
        return incident, changed

    def organisation(self) -> Organisation:
        """What an incident's references are resolved against."""
        return Organisation(self.severities, self.statuses, self.custom_fields,
                            self.custom_field_options, self.users)

