"""incident.io's webhook event types that our triggers take, and what each becomes.

One row per incident.io event type: the event we emit for it (a contract: issue 12 and
docs/design-rules.md, "Event shapes"), the key its object gets in our ``data``, where
that object sits in the delivery, and for ``private_*`` types the API path that fetches
the object (their deliveries carry only its id).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventKind:
    incoming: str  # incident.io's type name, e.g. public_incident.incident_created_v2
    emitted: str  # the type of the event we emit, e.g. incident.incident.created
    key: str  # the object's key in our data: incident, follow_up, alert, escalation
    label: str  # what the node's picker shows
    # The object sits under this key of the delivery's body (the status updates wrap it
    # with their own fields); None: the body is the object itself.
    nested: str | None = None
    # For private types: the collection to fetch the object from, GET /v2/{fetch}/{id}.
    fetch: str | None = None

    @property
    def private(self) -> bool:
        return self.incoming.startswith("private_")


def _pair(public: str, emitted: str, key: str, label: str, collection: str,
          nested: str | None = None, private: bool = True) -> list[EventKind]:
    """The public type and, when incident.io has one, its private twin."""
    kinds = [EventKind(public, emitted, key, f"Public {label}", nested)]
    if private:
        kinds.append(EventKind(public.replace("public_", "private_", 1), emitted, key,
                               f"Private {label} (fetched)", None, collection))
    return kinds


INCIDENT_KINDS = (
    *_pair("public_incident.incident_created_v2", "incident.incident.created", "incident",
           "incident created", "incidents"),
    *_pair("public_incident.incident_updated_v2", "incident.incident.updated", "incident",
           "incident updated", "incidents"),
    # incident.io sends no private status update; a private incident's status change
    # arrives as private_incident.incident_updated_v2.
    *_pair("public_incident.incident_status_updated_v2", "incident.incident.status_updated",
           "incident", "incident status updated", "incidents", nested="incident",
           private=False),
)
FOLLOW_UP_KINDS = (
    *_pair("public_incident.follow_up_created_v2", "incident.follow_up.created", "follow_up",
           "follow-up created", "follow_ups"),
    *_pair("public_incident.follow_up_updated_v2", "incident.follow_up.updated", "follow_up",
           "follow-up updated", "follow_ups"),
    # v1 (older endpoints still send it): accepted, same emitted shape.
    *_pair("public_incident.follow_up_created_v1", "incident.follow_up.created", "follow_up",
           "follow-up created (v1)", "follow_ups"),
    *_pair("public_incident.follow_up_updated_v1", "incident.follow_up.updated", "follow_up",
           "follow-up updated (v1)", "follow_ups"),
)
ALERT_KINDS = (
    *_pair("public_alert.alert_created_v1", "incident.alert.created", "alert",
           "alert created", "alerts"),
    *_pair("public_alert.alert_resolved_v1", "incident.alert.resolved", "alert",
           "alert resolved", "alerts"),
)
ESCALATION_KINDS = (
    *_pair("public_escalation.escalation_created_v1", "incident.escalation.created",
           "escalation", "escalation created", "escalations"),
    *_pair("public_escalation.escalation_status_updated_v1",
           "incident.escalation.status_updated", "escalation", "escalation status updated",
           "escalations", nested="escalation"),
)


def by_type(kinds: tuple[EventKind, ...]) -> dict[str, EventKind]:
    return {kind.incoming: kind for kind in kinds}
