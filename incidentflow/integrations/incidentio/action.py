"""Create Incident: open an incident in incident.io (``POST /v2/incidents``)."""

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
    Option,
    RemoteCheck,
)
from incidentflow.errors import PermanentError, Problem
from incidentflow.events import Event, iso
from incidentflow.integrations.incidentio import examples
from incidentflow.integrations.incidentio.client import IncidentIOClient, Sleep

OUTPUT_EVENT = "incident.incident"
VISIBILITIES = ("public", "private")


class CreateIncident(Component):
    type = "incident.createIncident"
    label = "Create Incident"
    description = "Creates a new incident in incident.io."
    icon = "🔥"
    integration = "incident"
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
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("create-incident")
    example_minimal: ClassVar[dict[str, Any] | None] = examples.load("create-incident-minimal")

    def __init__(self, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep  # the client's pause between quick retries (tests inject one)

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        visibility = config.get("visibility") or "public"
        if visibility not in VISIBILITIES:
            return [Problem("must be public or private", node, "visibility")]
        return []

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        name = _text(ctx.config.get("name"))
        if not name:
            raise PermanentError(
                "name resolved to an empty string: check the expression in the Name field"
            )
        severity_id = _text(ctx.config.get("severityId"))
        if not severity_id:
            raise PermanentError("severityId is empty: pick a severity")
        visibility = ctx.config.get("visibility") or "public"
        if visibility not in VISIBILITIES:
            raise PermanentError(f"visibility must be public or private, got {visibility!r}")
        client = IncidentIOClient.from_config(ctx.integration, ctx.http, sleep=self._sleep)
        incident = await client.create_incident(
            name=name,
            summary=_text(ctx.config.get("summary")) or None,
            severity_id=severity_id,
            visibility=visibility,
            idempotency_key=ctx.idempotency_key,
        )
        # The incident whole, as incident.io returned it (contract: no trimmed copy).
        return [Emission(Event(type=OUTPUT_EVENT, data=incident, timestamp=iso(ctx.now)))]

    def created_id(self, event: Event) -> str | None:
        found = event.data.get("id") if isinstance(event.data, dict) else None
        return found if isinstance(found, str) and found else None

    async def check_remote(
        self,
        node: str,
        config: Mapping[str, Any],
        integration: Mapping[str, Any] | None,
        http: httpx.AsyncClient,
    ) -> RemoteCheck:
        severity_id = _text(config.get("severityId"))
        if not severity_id or not integration:
            return RemoteCheck()  # the static checks already report what is missing
        try:
            # One attempt: a save must not stall on retries.
            client = IncidentIOClient.from_config(integration, http, max_attempts=1)
            severities = await client.list_severities()
        except Exception as exc:  # never refuse a save over an outage or a bad key
            warning = Problem(f"could not check the severity with incident.io: {exc}",
                              node, "severityId")
            return RemoteCheck(warnings=[warning])
        return _severity_check(node, severity_id, severities)


def _severity_check(node: str, severity_id: str, severities: list[dict[str, Any]]) -> RemoteCheck:
    if any(s.get("id") == severity_id for s in severities):
        return RemoteCheck()
    valid = ", ".join(f"{s.get('name')} ({s.get('id')})" for s in severities) or "none"
    message = f"severity {severity_id!r} does not exist in incident.io; valid: {valid}"
    return RemoteCheck(errors=[Problem(message, node, "severityId")])


def _text(value: Any) -> str:
    """A rendered field as trimmed text (a whole-field expression may yield a number)."""
    return "" if value is None else str(value).strip()
