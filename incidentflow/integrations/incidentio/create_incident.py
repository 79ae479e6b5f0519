"""Create Incident: open an incident in incident.io (``POST /v2/incidents``)."""

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
    mode_options,
    required_text,
    text,
)

OUTPUT_EVENT = INCIDENT_EVENT
VISIBILITIES = ("public", "private")
MODES = ("standard", "retrospective", "test", "tutorial")


class CreateIncident(IncidentIOAction):
    type = "incident.createIncident"
    label = "Create Incident"
    description = "Creates a new incident in incident.io."
    icon = "🔥"
    creates = OUTPUT_EVENT
    fields = (
        Field(
            "name", "template", "Name", required=True,
            description="The incident name or title (supports expressions)",
        ),
        Field(
            "summary", "template", "Summary",
            description="Additional details about the incident (supports expressions)",
        ),
        Field(
            "severityId", "select", "Severity", required=True, resource="severity",
            description="A severity from your incident.io organisation",
        ),
        Field(
            "visibility", "select", "Visibility", default="public",
            options=(
                Option("public", "Public (anyone can access)"),
                Option("private", "Private (only invited users)"),
            ),
        ),
        Field("incidentTypeId", "select", "Incident type", resource="incident_type",
              description="An incident type of your organisation (default: its default type)"),
        Field("statusId", "select", "Status", resource="incident_status",
              description="The status to open the incident in (default: incident.io's)"),
        Field("mode", "select", "Mode", default="standard", options=mode_options(),
              description="test opens a test incident: use it for dry runs"),
        custom_fields_field(),
        Field("roleAssignments", "object", "Role assignments",
              description="{incident role id: user id or email} (expressions in every value)"),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("create-incident")
    example_minimal: ClassVar[dict[str, Any] | None] = examples.load("create-incident-minimal")

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        if (config.get("visibility") or "public") not in VISIBILITIES:
            problems.append(Problem("must be public or private", node, "visibility"))
        if (config.get("mode") or "standard") not in MODES:
            problems.append(Problem(f"must be one of: {', '.join(MODES)}", node, "mode"))
        roles = config.get("roleAssignments")
        whole_expression = isinstance(roles, str) and "{{" in roles  # resolved at run time
        if roles is not None and not isinstance(roles, dict) and not whole_expression:
            problems.append(Problem("must be an object {incident role id: user id}", node,
                                    "roleAssignments"))
        return problems

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        config = ctx.config
        severity_id = text(config.get("severityId"))
        payload: dict[str, Any] = {
            "idempotency_key": ctx.idempotency_key,
            "name": required_text(config, "name", "Name"),
            "severity_id": severity_id,
            "visibility": config.get("visibility") or "public",
        }
        if not severity_id:
            raise PermanentError("severityId is empty: pick a severity")
        if payload["visibility"] not in VISIBILITIES:
            raise PermanentError(
                f"visibility must be public or private, got {payload['visibility']!r}")
        mode = text(config.get("mode")) or "standard"
        if mode not in MODES:
            raise PermanentError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        optional = {
            "mode": "" if mode == "standard" else mode,  # incident.io's own default
            "summary": text(config.get("summary")),
            "incident_type_id": text(config.get("incidentTypeId")),
            "incident_status_id": text(config.get("statusId")),
        }
        payload.update({key: value for key, value in optional.items() if value})
        entries = await custom_field_entries(ctx, config.get("customFields"))
        if entries:
            payload["custom_field_entries"] = entries
        roles = role_assignments(config.get("roleAssignments"))
        if roles:
            payload["incident_role_assignments"] = roles
        client = client_for(ctx, self._sleep)
        incident = await client.create_incident(payload)
        # The incident whole, as incident.io returned it (contract: no trimmed copy).
        return emit(ctx, OUTPUT_EVENT, incident)


def role_assignments(value: Any) -> list[dict[str, Any]]:
    """``{role id: user id or email}`` as incident.io's ``incident_role_assignments``."""
    if value in (None, "", {}):
        return []
    if not isinstance(value, dict):
        raise PermanentError("roleAssignments must be an object {incident role id: user id}")
    assignments = []
    for role_id, user in value.items():
        who = text(user)
        if not who:
            continue
        assignee = {"email": who} if "@" in who else {"id": who}
        assignments.append({"incident_role_id": str(role_id), "assignee": assignee})
    return assignments
