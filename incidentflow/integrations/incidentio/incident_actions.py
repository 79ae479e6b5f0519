"""Get, Update and List incidents: the incident verbs that open nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from incidentflow.components.base import (
    Emission,
    ExecutionContext,
    Field,
    Option,
)
from incidentflow.errors import PermanentError, Problem
from incidentflow.integrations.incidentio import examples
from incidentflow.integrations.incidentio.action_support import (
    INCIDENT_EVENT,
    IncidentIOAction,
    client_for,
    custom_field_entries,
    custom_fields_field,
    emit,
    incident_field,
    incident_id,
    notify_field,
    required_text,
    text,
)

LIST_EVENT = "incident.incidents"
DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
PAGE_SIZE = 100
# incident.io's status categories, as its list filter takes them.
STATUS_CATEGORIES = ("triage", "live", "learning", "closed", "declined", "merged",
                     "canceled", "paused")
CHANGES = ("name", "summary", "severityId", "statusId", "customFields")


class _IncidentAction(IncidentIOAction):
    icon = "🔎"


class GetIncident(_IncidentAction):
    type = "incident.getIncident"
    label = "Get Incident"
    description = "Fetches one incident from incident.io by id or reference (INC-123)."
    fields = (incident_field(),)
    example_output: ClassVar[dict[str, Any] | None] = examples.load("create-incident")
    example_minimal: ClassVar[dict[str, Any] | None] = examples.load("create-incident-minimal")

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        incident = required_text(ctx.config, "incident", "Incident")
        found = await client_for(ctx, self._sleep).get_incident(incident)
        return emit(ctx, INCIDENT_EVENT, found)


class UpdateIncident(_IncidentAction):
    type = "incident.updateIncident"
    label = "Update Incident"
    description = ("Edits an incident in incident.io: name, summary, severity, status, "
                   "custom fields. Only the fields you set change.")
    icon = "✏️"
    fields = (
        incident_field(),
        Field("name", "template", "Name", description="A new name (supports expressions)"),
        Field("summary", "template", "Summary",
              description="A new summary (supports expressions)"),
        Field("severityId", "select", "Severity", resource="severity",
              description="Move the incident to this severity"),
        Field("statusId", "select", "Status", resource="incident_status",
              description="Move the incident to this status (e.g. Monitoring, Closed)"),
        custom_fields_field(),
        notify_field(),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("create-incident")
    example_minimal: ClassVar[dict[str, Any] | None] = examples.load("create-incident-minimal")

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        if any(config.get(name) not in (None, "", {}) for name in CHANGES):
            return []
        return [Problem(f"set at least one of: {', '.join(CHANGES)}", node, "name")]

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        config = ctx.config
        reference = required_text(config, "incident", "Incident")
        changes: dict[str, Any] = {}
        for name, key in (("name", "name"), ("summary", "summary"),
                          ("severityId", "severity_id"), ("statusId", "incident_status_id")):
            if text(config.get(name)):
                changes[key] = text(config.get(name))
        entries = await custom_field_entries(ctx, config.get("customFields"))
        if entries:
            changes["custom_field_entries"] = entries
        if not changes:
            raise PermanentError(
                "nothing to change: every field resolved to an empty value "
                f"({', '.join(CHANGES)})")
        client = client_for(ctx, self._sleep)
        # An edit is idempotent: sending the same changes again leaves the same incident.
        edited = await client.edit_incident(
            await incident_id(client, reference), changes,
            notify_incident_channel=config.get("notifyIncidentChannel") is True)
        return emit(ctx, INCIDENT_EVENT, edited)


class ListIncidents(_IncidentAction):
    type = "incident.listIncidents"
    label = "List Incidents"
    description = ("Lists incidents from incident.io, newest first, following every page "
                   "up to the limit.")
    icon = "📋"
    fields = (
        Field("statusCategory", "select", "Status category",
              options=tuple(Option(c, c) for c in STATUS_CATEGORIES),
              description="Only incidents whose status is in this category"),
        Field("severityId", "select", "Severity", resource="severity",
              description="Only incidents of this severity"),
        Field("createdAfter", "template", "Created after",
              description="Only incidents created on or after this date (YYYY-MM-DD or "
              "an ISO 8601 time; supports expressions)"),
        Field("limit", "number", "Limit", default=DEFAULT_LIMIT,
              description=f"At most this many incidents (1 to {MAX_LIMIT})"),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("list-incidents")

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        limit = config.get("limit", DEFAULT_LIMIT)
        if isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= MAX_LIMIT:
            return []
        return [Problem(f"must be a whole number from 1 to {MAX_LIMIT}", node, "limit")]

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        limit = ctx.config.get("limit") or DEFAULT_LIMIT
        params = self._filters(ctx.config)
        client = client_for(ctx, self._sleep)
        found: list[dict[str, Any]] = []
        after: str | None = None
        while len(found) < limit:
            page_params = {**params, "page_size": min(PAGE_SIZE, limit - len(found))}
            if after:
                page_params["after"] = after
            page, after = await client.list_incidents_page(page_params)
            found.extend(page)
            if after is None:
                break
        return emit(ctx, LIST_EVENT, {"incidents": found[:limit]})

    @staticmethod
    def _filters(config: Mapping[str, Any]) -> dict[str, str]:
        params = {}
        if text(config.get("statusCategory")):
            params["status_category[one_of]"] = text(config.get("statusCategory"))
        if text(config.get("severityId")):
            params["severity[one_of]"] = text(config.get("severityId"))
        if text(config.get("createdAfter")):
            params["created_at[gte]"] = text(config.get("createdAfter"))
        return params
