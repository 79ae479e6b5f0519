"""Canvases as the API and the UI show them: the canvas with live metadata for each
node (its webhook URL, whether it is operational, its deliveries, its catch-up polling),
the canvas list with each canvas's last run, and the create rate limit's state per node.
These views read the store (``host.canvas_views``); the small pure views below them are
shared with the canvas service and the pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import WebhookTrigger
from incidentflow.engine.rate_gate import limit_of
from incidentflow.events import iso
from incidentflow.rate_limit import RateLimit
from incidentflow.store.port import DeliveryRecord, Endpoint, NodeLimitState

if TYPE_CHECKING:
    from incidentflow.app_service import AppService
    from incidentflow.settings import Settings


class CanvasViews:
    def __init__(self, host: AppService):
        self.host = host
        self.db = host.db
        self.registry = host.registry

    async def canvas_view(self, name: str) -> dict[str, Any]:
        """The canvas with live metadata for each node
        (docs/design-rules.md, "Live node metadata")."""
        record = await self.db.get_canvas(name)
        nodes = [await self._node_view(record.canvas, node) for node in record.canvas.nodes]
        return {
            "name": record.name,
            "version": record.version,
            "description": record.canvas.description,
            "createdAt": iso(record.created_at),
            "updatedAt": iso(record.updated_at),
            "source": record.source,
            "canvas": record.canvas.to_dict(),
            "warnings": record.warnings,
            "nodes": nodes,
            **await self._rate_limit_view(record.canvas),
            **pause_view(record.paused_at),
        }

    async def _node_view(self, canvas: Canvas, node: Node) -> dict[str, Any]:
        component = self.registry.components.get(node.type)
        if component is None:  # saved under a catalogue this server no longer has
            return {"name": node.name, "type": node.type, "role": "unknown"}
        view: dict[str, Any] = {"name": node.name, "type": node.type, "role": component.role}
        if isinstance(component, WebhookTrigger):
            endpoint = await self.db.endpoint_for_node(canvas.name, node.name, self.host.clock())
            view["live"] = endpoint_view(self.host.settings, endpoint)
            if component.polls_for_changes(node.configuration):
                state = await self.db.catch_up_state(canvas.name, node.name)
                view["catchUp"] = component.polling_view(node.configuration, state)
        return view

    async def list_canvases(self) -> list[dict[str, Any]]:
        summaries = await self.db.list_canvases()
        tripped = await self._tripped_by_canvas()
        return [
            {
                "name": s.name,
                "version": s.version,
                "updatedAt": iso(s.updated_at),
                "triggers": s.triggers,
                "lastRunId": s.last_run_id,
                "lastRunState": s.last_run_state,
                "lastRunAt": iso(s.last_run_at) if s.last_run_at else None,
                "trippedNodes": tripped.get(s.name, []),
                **pause_view(s.paused_at),
            }
            for s in summaries
        ]

    async def _rate_limit_view(self, canvas: Canvas) -> dict[str, Any]:
        """Each creating node's limit and state; which nodes are tripped, and holding
        how many executions."""
        states = {s.node: s for s in await self.db.node_limits(canvas.name)}
        limits = {}
        for node in canvas.nodes:
            component = self.registry.components.get(node.type)
            if component is not None and component.creates:
                limits[node.name] = rate_limit_view(
                    limit_of(node, self.host.settings), states.get(node.name))
        tripped = [{"node": name, "held": view["held"], "trippedAt": view["trippedAt"]}
                   for name, view in limits.items() if view["tripped"]]
        return {"rateLimits": limits, "trippedNodes": tripped}

    async def _tripped_by_canvas(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for state in await self.db.node_limits(None):
            if state.tripped:
                found.setdefault(state.canvas, []).append(
                    {"node": state.node, "held": state.held,
                     "trippedAt": iso(state.tripped_at) if state.tripped_at else None})
        return found


# -- pure views ------------------------------------------------------------------------------


def endpoint_view(settings: Settings, endpoint: Endpoint) -> dict[str, Any]:
    """A webhook trigger's live state: its URL (assembled from the public URL,
    docs/design-rules.md, "Stable webhook URLs"), its signing secret, its deliveries."""
    view: dict[str, Any] = {
        "webhookUrl": settings.webhook_url(endpoint.id),
        "signingSecretConfigured": endpoint.secret_configured,
        "lastDeliveryAt": iso(endpoint.last_delivery_at) if endpoint.last_delivery_at else None,
        "deliveries": dict(endpoint.counts),
        "operational": endpoint.secret_configured,
    }
    if not endpoint.secret_configured:
        view["reason"] = "signing secret not set"
    return view


def rate_limit_view(limit: RateLimit, state: NodeLimitState | None) -> dict[str, Any]:
    """A creating node's limit as the API shows it (``GET /canvases/{name}``)."""
    started = state.window_start if state is not None else None
    return {
        **limit.to_dict(),
        "tripped": bool(state and state.tripped),
        "trippedAt": iso(state.tripped_at) if state and state.tripped_at else None,
        "held": state.held if state else 0,
        "windowStart": iso(started) if started else None,
        "windowCount": state.window_count if state else 0,
    }


def pause_view(paused_at: datetime | None) -> dict[str, Any]:
    return {"paused": paused_at is not None,
            "pausedAt": iso(paused_at) if paused_at is not None else None}


def delivery_view(record: DeliveryRecord) -> dict[str, Any]:
    """One delivery log entry as the API and the UI show it."""
    return {
        "id": record.id,
        "receivedAt": iso(record.received_at),
        "webhookId": record.webhook_id,
        "outcome": record.outcome,
        "reason": record.reason,
        "code": record.code or None,
        "runId": record.run_id,
        "heldEvents": record.held,
    }
