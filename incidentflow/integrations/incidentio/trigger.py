"""On Incident: incident.io's incident created, updated and status updated webhooks.

``integration`` is optional: receiving needs only the node's signing secret (set with
the trigger's secret hook), never an API key, so a canvas can listen to incident.io
without storing a key. Naming the ``incident`` integration (seed canvases do) lets the
node fetch private incidents (``receiving.py``) and catch up on lost webhooks
(``catchUp``, see ``engine/catch_up.py``).

Filters (``filters.py``) keep incidents of other severities, types, status categories
or modes from starting runs; such deliveries are recorded as filtered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from incidentflow.components.base import RemoteCheck
from incidentflow.errors import Problem
from incidentflow.events import Event
from incidentflow.integrations.incidentio import catch_up, examples, filters
from incidentflow.integrations.incidentio.event_types import INCIDENT_KINDS, EventKind, by_type
from incidentflow.integrations.incidentio.receiving import (
    SECRET_FIELD,
    IncidentIOTrigger,
    events_field,
    self_trigger_field,
)

CREATED = "public_incident.incident_created_v2"
UPDATED = "public_incident.incident_updated_v2"
STATUS_UPDATED = "public_incident.incident_status_updated_v2"
KINDS = by_type(INCIDENT_KINDS)
# incident.io event type → the type of the event we emit
# (a contract: docs/design-rules.md, "Event shapes").
EMITTED_TYPES = {kind.incoming: kind.emitted for kind in INCIDENT_KINDS}
DEFAULT_EVENTS = [CREATED, UPDATED]
# What a status update adds beside the incident (a contract: issue 12).
STATUS_FIELDS = ("previous_status", "new_status", "message")

__all__ = ["CREATED", "DEFAULT_EVENTS", "EMITTED_TYPES", "SECRET_FIELD", "STATUS_UPDATED",
           "UPDATED", "OnIncident"]


class OnIncident(IncidentIOTrigger):
    type = "incident.onIncident"
    label = "On Incident"
    description = ("Starts a run when incident.io sends an incident created, updated or "
                   "status updated webhook (public, or private fetched).")
    icon = "🔥"
    listens_for = frozenset({"incident.incident"})  # what Create Incident creates
    kinds: ClassVar[dict[str, EventKind]] = KINDS
    default_events = (CREATED, UPDATED)
    fields = (
        events_field(KINDS, default_events),
        *filters.FIELDS,
        catch_up.FIELD,
        self_trigger_field("an incident"),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("on-incident")
    example_minimal: ClassVar[dict[str, Any] | None] = examples.load("on-incident-minimal")

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        return super().check(node, config) + catch_up.problems(node, config)

    async def check_remote(
        self, node: str, config: Mapping[str, Any], integration: Mapping[str, Any] | None,
        http: httpx.AsyncClient,
    ) -> RemoteCheck:
        found = await super().check_remote(node, config, integration, http)
        severities = await filters.check_ids(node, config, integration, http)
        errors = [*found.errors, *severities.errors]
        if integration is None and catch_up.read(config).enabled:
            errors.append(Problem(
                "catchUp polls incident.io with the integration's API key: name the "
                "incident integration on this node, or turn catchUp off", node,
                "integration"))
        return RemoteCheck(errors=errors, warnings=[*found.warnings, *severities.warnings])

    def polls_for_changes(self, config: Mapping[str, Any]) -> bool:
        return catch_up.polls(self.type, config)

    def change_of(self, event: Event) -> tuple[str, str] | None:
        return catch_up.change_of(event.data)

    def polling_view(self, config: Mapping[str, Any], state: Any) -> dict[str, Any]:
        return catch_up.view(config, state)

    def extras(self, kind: EventKind, extras: dict[str, Any]) -> dict[str, Any]:
        if kind.incoming != STATUS_UPDATED:
            return extras
        return {name: extras.get(name) for name in STATUS_FIELDS}

    def screen(self, config: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
        incident = data.get("incident")
        return filters.filtered_out(config, incident if isinstance(incident, dict) else {})

    def could_be_self_created(self, event: Event) -> bool:
        """Create Incident calls the API with a key, so incident.io names that key as the
        incident's creator. A creator without one (a person, an alert, a workflow) was
        not us; an unknown or missing creator might be."""
        incident = event.data.get("incident") if isinstance(event.data, dict) else None
        creator = incident.get("creator") if isinstance(incident, dict) else None
        if not isinstance(creator, dict) or not creator:
            return True
        return "api_key" in creator

