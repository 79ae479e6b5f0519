"""Create Follow-up: file a follow-up on an incident (``POST /v2/follow_ups``).

incident.io's follow-up endpoint takes no idempotency key: a response lost after the
follow-up was filed can, when retried, file it twice (docs/incidentio.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from incidentflow.components.base import (
    Component,
    Emission,
    ExecutionContext,
    Field,
    RemoteCheck,
)
from incidentflow.events import Event
from incidentflow.integrations.incidentio import examples
from incidentflow.integrations.incidentio.action_support import (
    check_named_resources,
    client_for,
    emit,
    id_of,
    incident_field,
    incident_id,
    required_text,
    text,
)
from incidentflow.integrations.incidentio.client import Sleep

OUTPUT_EVENT = "incident.follow_up"


class CreateFollowUp(Component):
    type = "incident.createFollowUp"
    label = "Create Follow-up"
    description = "Files a follow-up (e.g. \"write the post-mortem\") on an incident."
    icon = "📝"
    integration = "incident"
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

    def __init__(self, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep

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

    def created_id(self, event: Event) -> str | None:
        return id_of(event)

    async def check_remote(
        self,
        node: str,
        config: Mapping[str, Any],
        integration: Mapping[str, Any] | None,
        http: httpx.AsyncClient,
    ) -> RemoteCheck:
        return await check_named_resources(self, node, config, integration, http)
