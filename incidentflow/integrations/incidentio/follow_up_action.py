"""Create Follow-up: file a follow-up on an incident (``POST /v2/follow_ups``).

incident.io's follow-up endpoint takes no idempotency key: a response lost after the
follow-up was filed can, when retried, file it twice (docs/incidentio.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from incidentflow.components.base import (
    Emission,
    ExecutionContext,
    Field,
)
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

OUTPUT_EVENT = "incident.follow_up"


class CreateFollowUp(IncidentIOAction):
    type = "incident.createFollowUp"
    label = "Create Follow-up"
    description = "Files a follow-up (e.g. \"write the post-mortem\") on an incident."
    icon = "📝"
    creates = OUTPUT_EVENT
    fields = (
        incident_field(),
        Field("title", "template", "Title", required=True,
              description="What needs doing (supports expressions)"),
        Field("description", "template", "Description",
              description="More detail, Markdown (supports expressions)"),
        Field("assigneeId", "select", "Assignee", resource="user",
              description="The user the follow-up is assigned to"),
        Field("priorityId", "template", "Priority",
              description="The id of a follow-up priority option of your organisation"),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("create-follow-up")

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        config = ctx.config
        reference = required_text(config, "incident", "Incident")
        title = required_text(config, "title", "Title")
        client = client_for(ctx, self._sleep)
        payload: dict[str, Any] = {"incident_id": await incident_id(client, reference),
                                   "title": title}
        optional = {"description": text(config.get("description")),
                    "assignee_id": text(config.get("assigneeId")),
                    "follow_up_priority_option_id": text(config.get("priorityId"))}
        payload.update({key: value for key, value in optional.items() if value})
        return emit(ctx, OUTPUT_EVENT, await client.create_follow_up(payload))
