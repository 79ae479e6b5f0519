"""Create Escalation: page an escalation path or people (``POST /v2/escalations``),
with the execution's idempotency key so a retry never pages twice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from incidentflow.components.base import (
    Emission,
    ExecutionContext,
    Field,
)
from incidentflow.errors import PermanentError, Problem
from incidentflow.integrations.incidentio import examples
from incidentflow.integrations.incidentio.action_support import (
    IncidentIOAction,
    client_for,
    emit,
    incident_field,
    incident_id,
    required_text,
    text,
)

OUTPUT_EVENT = "incident.escalation"


class CreateEscalation(IncidentIOAction):
    type = "incident.createEscalation"
    label = "Create Escalation"
    description = "Pages an escalation path or users through incident.io On-call."
    icon = "📟"
    creates = OUTPUT_EVENT
    fields = (
        Field("title", "template", "Title", required=True,
              description="Sent in every notification (supports expressions)"),
        Field("description", "template", "Description",
              description="More detail for the people paged (supports expressions)"),
        Field("escalationPathId", "select", "Escalation path", resource="escalation_path",
              description="The escalation path to follow (or choose users)"),
        Field("userIds", "multiselect", "Users", resource="user",
              description="Users to page directly (or choose an escalation path)"),
        incident_field("An incident to link, by id or reference such as INC-123 "
                       "(optional; supports expressions)", required=False),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("create-escalation")

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        if config.get("escalationPathId") or config.get("userIds"):
            return []
        return [Problem("choose an escalation path or at least one user", node,
                        "escalationPathId")]

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        config = ctx.config
        client = client_for(ctx, self._sleep)
        payload: dict[str, Any] = {
            "idempotency_key": ctx.idempotency_key,
            "title": required_text(config, "title", "Title"),
        }
        if text(config.get("description")):
            payload["description"] = text(config.get("description"))
        if text(config.get("escalationPathId")):
            payload["escalation_path_id"] = text(config.get("escalationPathId"))
        users = [text(u) for u in config.get("userIds") or [] if text(u)]
        if users:
            payload["user_ids"] = users
        if "escalation_path_id" not in payload and not users:
            raise PermanentError("choose an escalation path or at least one user")
        if text(config.get("incident")):
            payload["incident_id"] = await incident_id(client, text(config.get("incident")))
        return emit(ctx, OUTPUT_EVENT, await client.create_escalation(payload))
