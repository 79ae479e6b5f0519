"""Send Alert Event and Resolve Alert: raise, update and resolve incident.io alerts.

Send Alert Event authenticates with the alert source's own token, which the node reads
from a canvas secret (``{{ secrets.ALERT_TOKEN }}``; a literal token is refused at
save, so it is never stored in a canvas). The integration named on the node gives only
the base URL: its API key is never sent to the alert events endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from incidentflow.components.base import (
    Emission,
    ExecutionContext,
    Field,
)
from incidentflow.errors import PermanentError, Problem
from incidentflow.events import Event
from incidentflow.integrations.incidentio import examples
from incidentflow.integrations.incidentio.action_support import (
    IncidentIOAction,
    client_for,
    emit,
    required_text,
    text,
)
from incidentflow.integrations.incidentio.client import DEFAULT_BASE_URL, IncidentIOClient

EVENT_OUTPUT = "incident.alert_event"
ALERT_OUTPUT = "incident.alert"
STATUSES = ("firing", "resolved")
# The whole field is one secret reference: {{ secrets.NAME }} or {{ secrets["NAME"] }}.
SECRET_REFERENCE = re.compile(
    r"""\{\{-?\s*secrets(\.[A-Za-z_]\w*|\[\s*(['"])[A-Za-z_]\w*\2\s*\])\s*-?\}\}""")


class SendAlertEvent(IncidentIOAction):
    type = "incident.sendAlertEvent"
    label = "Send Alert Event"
    description = ("Raises or resolves an alert on an HTTP alert source: one alert per "
                   "deduplication key.")
    icon = "🚨"
    # An alert event opens (or re-fires) an alert elsewhere: rate-limited, and guarded
    # against the canvas's own On Alert trigger (docs/runaway.md).
    creates = ALERT_OUTPUT
    fields = (
        Field("alertSourceConfigId", "select", "Alert source", required=True,
              resource="alert_source", description="The HTTP alert source to send to"),
        Field("token", "template", "Alert source token", required=True,
              description="A secret reference such as {{ secrets.ALERT_TOKEN }} holding the "
              "alert source's token (never the token itself)"),
        Field("title", "template", "Title", required=True,
              description="The alert's title (supports expressions)"),
        Field("status", "template", "Status", default="firing",
              description="firing or resolved (supports expressions)"),
        Field("deduplicationKey", "template", "Deduplication key",
              description="Events with one key update one alert (default: one per run step)"),
        Field("description", "template", "Description",
              description="More detail, Markdown (supports expressions)"),
        Field("sourceUrl", "template", "Source URL",
              description="A link to the alert where it came from"),
        Field("metadata", "object", "Metadata",
              description="Any JSON the alert source is set up to parse"),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("send-alert-event")

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        token = config.get("token")
        if isinstance(token, str) and token and not SECRET_REFERENCE.fullmatch(token.strip()):
            problems.append(Problem(
                "must be a secret reference such as {{ secrets.ALERT_TOKEN }}: a token "
                "written into the canvas would be stored and shown in clear", node, "token"))
        status = config.get("status")
        if isinstance(status, str) and "{" not in status and status not in ("", *STATUSES):
            problems.append(Problem("must be firing or resolved", node, "status"))
        return problems

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        config = ctx.config
        source = required_text(config, "alertSourceConfigId", "Alert source")
        status = text(config.get("status")) or "firing"
        if status not in STATUSES:
            raise PermanentError(f"status must be firing or resolved, got {status!r}")
        payload: dict[str, Any] = {
            "title": required_text(config, "title", "Title"),
            "status": status,
            # A retry with the same key updates the same alert, never opens a second.
            "deduplication_key": text(config.get("deduplicationKey")) or ctx.idempotency_key,
        }
        optional = {"description": text(config.get("description")),
                    "source_url": text(config.get("sourceUrl"))}
        payload.update({key: value for key, value in optional.items() if value})
        if config.get("metadata") not in (None, "", {}):
            if not isinstance(config["metadata"], dict):
                raise PermanentError("metadata must be a JSON object")
            payload["metadata"] = config["metadata"]
        client = self._client(ctx, config.get("token"))
        return emit(ctx, EVENT_OUTPUT, await client.send_alert_event(source, payload))

    def _client(self, ctx: ExecutionContext, token: Any) -> IncidentIOClient:
        if not text(token):
            raise PermanentError("token resolved to an empty string: set the canvas secret "
                                 "it names")
        if not ctx.integration:
            raise PermanentError("this node needs an incident.io integration (its base URL)")
        base_url = str(ctx.integration.get("baseUrl") or DEFAULT_BASE_URL).strip()
        # Only the alert source's token, never the integration's API key.
        return IncidentIOClient(ctx.http, text(token), base_url, sleep=self._sleep)

    def created_id(self, event: Event) -> str | None:
        """incident.io answers an alert event without the alert's id: the deduplication
        key is what names the alert (docs/incidentio.md)."""
        key = event.data.get("deduplication_key") if isinstance(event.data, dict) else None
        return key if isinstance(key, str) and key else None


class ResolveAlert(IncidentIOAction):
    type = "incident.resolveAlert"
    label = "Resolve Alert"
    description = "Resolves an alert in incident.io by its id."
    icon = "✅"
    fields = (
        Field("alert", "template", "Alert", required=True,
              description="The alert's id (supports expressions, e.g. "
              "{{ root.data.alert.id }})"),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("resolve-alert")

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        alert_id = required_text(ctx.config, "alert", "Alert")
        alert = await client_for(ctx, self._sleep).resolve_alert(alert_id)
        return emit(ctx, ALERT_OUTPUT, alert)
