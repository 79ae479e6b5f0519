"""``MemoryCanvases``: canvases, their webhook endpoints (stable ids, secret rotation
grace), deliveries deduplicated per endpoint and webhook-id, and paused canvases
holding their deliveries, in memory: the twins of ``store.canvas_rows``,
``store.endpoints``, ``store.accepts`` and ``store.pauses``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentflow.canvas import Canvas
from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store.codec import canvas_from_spec, canvas_to_spec, new_id, spec_hash
from incidentflow.store.memory_rows import (
    CanvasRow,
    CanvasVersion,
    DeliveryRow,
    EndpointRow,
    copied,
    storable,
)
from incidentflow.store.memory_schedules import MemorySchedules
from incidentflow.store.port import (
    CanvasRecord,
    CanvasSummary,
    DeliveryOutcome,
    DeliveryRecord,
    DeliveryResult,
    Endpoint,
    NewExecution,
    Resumed,
    SavedCanvas,
)
from incidentflow.store.records import FILTERED_REASON

if TYPE_CHECKING:
    from incidentflow.store.node_roles import NodeRoles

# The SQL store's texts and rules (store.accepts, store.pauses, store.endpoints),
# stated once more here because those modules cannot be imported without SQLAlchemy.
NO_EVENT = "no event to run"
PAUSED = "canvas paused: held until it is resumed"
RUN_ON_RESUME = "paused; run when the canvas was resumed"
DISCARDED_ON_RESUME = "paused; discarded when the canvas was resumed"
SECRET_GRACE = timedelta(hours=24)  # docs/design-rules.md, "Secret rotation grace"
OUTCOMES: tuple[DeliveryOutcome, ...] = (
    "accepted", "duplicate", "rejected", "ignored", "filtered", "paused")

class MemoryCanvases(MemorySchedules):
    _roles: NodeRoles  # which nodes get endpoints, which are triggers (``InMemoryStore``)

    # -- canvases --------------------------------------------------------------------
    def save_canvas(self, canvas: Canvas, source: str, warnings: list[dict[str, Any]],
                    now: datetime) -> SavedCanvas:
        spec = canvas_to_spec(canvas)
        digest = spec_hash(spec)
        with self._lock:
            row = self._t.canvases.get(canvas.name)
            if row is not None and row.versions[row.current].digest == digest:
                return SavedCanvas(canvas.name, row.current, created=False)
            if row is None:
                row = self._t.canvases[canvas.name] = CanvasRow(canvas.name, 0, now, now)
            row.current, row.updated_at = row.current + 1, now
            row.versions[row.current] = CanvasVersion(canvas_from_spec(spec), source, digest,
                                                      copied(warnings))
            self._sync_endpoints(canvas.name, self._roles.webhook_nodes(canvas))
            self._sync_schedules(canvas.name, self._schedule_nodes(canvas), now)
            return SavedCanvas(canvas.name, row.current, created=True)

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        with self._lock:
            row = self._canvas(name)
            wanted = row.current if version is None else version
            found = row.versions.get(wanted)
            if found is None:
                raise NotFound(f"canvas {name!r} has no version {wanted}")
            return CanvasRecord(name, wanted, canvas_from_spec(canvas_to_spec(found.canvas)),
                                found.source, row.created_at, row.updated_at,
                                copied(found.warnings), row.paused_at)

    def list_canvases(self) -> list[CanvasSummary]:
        with self._lock:
            return [self._summary(row) for _, row in sorted(self._t.canvases.items())]

    def _summary(self, row: CanvasRow) -> CanvasSummary:
        runs = [run for run in self._t.runs.values() if run.canvas == row.name]
        last = max(runs, key=lambda run: run.id, default=None)
        return CanvasSummary(
            row.name, row.current, row.updated_at,
            self._roles.trigger_nodes(row.versions[row.current].canvas),
            last.id if last else None, last.state if last else None,
            last.created_at if last else None, row.paused_at)

    def delete_canvas(self, name: str) -> None:
        with self._lock:
            self._canvas(name)
            del self._t.canvases[name]
            self._t.forget_canvas(name)

    def _canvas(self, name: str) -> CanvasRow:
        found = self._t.canvases.get(name)
        if found is None:
            raise NotFound(f"canvas {name!r} does not exist")
        return found

    # -- webhook endpoints -----------------------------------------------------------
    def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint:
        with self._lock:
            return _endpoint(self._endpoint(endpoint_id), now)

    def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint:
        with self._lock:
            return _endpoint(self._endpoint_of(canvas, node), now)

    def set_endpoint_secret(self, canvas: str, node: str, secret_encrypted: str | None,
                            now: datetime) -> Endpoint:
        with self._lock:
            row = self._endpoint_of(canvas, node)
            keep = secret_encrypted is not None and row.secret_enc is not None
            row.previous_secret_enc = row.secret_enc if keep else None
            row.previous_valid_until = now + SECRET_GRACE if keep else None
            row.secret_enc = secret_encrypted
            return _endpoint(row, now)

    def _endpoint(self, endpoint_id: str) -> EndpointRow:
        found = self._t.endpoints.get(endpoint_id)
        if found is None:
            raise NotFound(f"webhook endpoint {endpoint_id!r} does not exist")
        return found

    def _endpoint_of(self, canvas: str, node: str) -> EndpointRow:
        for row in self._t.endpoints.values():
            if (row.canvas, row.node) == (canvas, node):
                return row
        raise NotFound(f"node {node!r} of canvas {canvas!r} has no webhook endpoint")

    def _sync_endpoints(self, canvas: str, nodes: list[str]) -> None:
        """New webhook-trigger nodes get an endpoint; removed ones lose theirs; the
        others keep id and secret (docs/design-rules.md, "Stable webhook URLs")."""
        existing = {row.node: row.id for row in self._t.endpoints.values()
                    if row.canvas == canvas}
        for node in sorted(set(nodes) - set(existing)):
            endpoint_id = secrets.token_urlsafe(18)
            self._t.endpoints[endpoint_id] = EndpointRow(endpoint_id, canvas, node)
        for node in set(existing) - set(nodes):
            gone = existing[node]
            del self._t.endpoints[gone]
            self._t.deliveries = [d for d in self._t.deliveries if d.endpoint_id != gone]

    # -- deliveries ------------------------------------------------------------------
    def accept_delivery(self, endpoint_id: str, webhook_id: str | None,
                        events: list[tuple[Event, list[NewExecution]]], now: datetime,
                        reason: str = "") -> DeliveryResult:
        storable(*(event.data for event, _ in events))
        handoff = self._handoff(now)
        with self._lock:
            endpoint = self._endpoint(endpoint_id)
            canvas = self._t.canvases[endpoint.canvas]
            if webhook_id is not None and any(
                    (d.endpoint_id, d.webhook_id) == (endpoint_id, webhook_id)
                    for d in self._t.deliveries):
                return self._delivered(endpoint, None, "duplicate", "", None, now)
            if canvas.paused_at is not None and events:  # held, nothing starts
                held = [event.as_dict() for event, _ in events]
                return self._delivered(endpoint, webhook_id, "paused", PAUSED, held, now)
            run_ids = [self._insert_run(canvas.name, canvas.current, endpoint.node, event, first,
                                        now, handoff) for event, first in events]
            reason = "" if events else reason or NO_EVENT
            outcome: DeliveryOutcome = ("accepted" if events else "filtered"
                                        if reason.startswith(FILTERED_REASON) else "ignored")
            result = self._delivered(endpoint, webhook_id, outcome, reason, None, now, run_ids)
        self._committed(handoff, sum(len(first) for _, first in events))
        return result

    def _delivered(self, endpoint: EndpointRow, webhook_id: str | None,
                   outcome: DeliveryOutcome, reason: str, held: list[dict[str, Any]] | None,
                   now: datetime, run_ids: list[str] | None = None,
                   code: str = "") -> DeliveryResult:
        """Count the outcome; record the delivery (a duplicate only counts)."""
        endpoint.counts[outcome] = endpoint.counts.get(outcome, 0) + 1
        endpoint.last_delivery_at = now
        run_ids = run_ids or []
        if outcome != "duplicate":
            self._t.deliveries.append(DeliveryRow(
                new_id(), endpoint.id, webhook_id, outcome, reason,
                run_ids[0] if run_ids else None, now, held, code))
        return DeliveryResult(outcome, run_ids, reason)

    def record_rejection(self, endpoint_id: str, reason: str, now: datetime,
                         code: str = "other") -> None:
        with self._lock:
            self._delivered(self._endpoint(endpoint_id), None, "rejected", reason, None, now,
                            code=code)

    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        with self._lock:
            rows = sorted((d for d in self._t.deliveries if d.endpoint_id == endpoint_id),
                          key=lambda d: (d.received_at, d.id), reverse=True)[:limit]
            return [DeliveryRecord(d.id, d.endpoint_id, d.webhook_id, d.outcome, d.reason,
                                   d.received_at, d.run_id, len(d.held_events or ()), d.code)
                    for d in rows]

    # -- pause and resume ------------------------------------------------------------
    def pause_canvas(self, name: str, now: datetime) -> datetime:
        with self._lock:
            row = self._canvas(name)
            row.paused_at = row.paused_at or now  # already paused: since then
            return row.paused_at

    def resume_canvas(self, name: str, plan: Callable[[str, Event], list[NewExecution]] | None,
                      now: datetime) -> Resumed:
        with self._lock:
            row = self._canvas(name)
            row.paused_at = None
            run_ids: list[str] = []
            discarded = 0
            for delivery, node in self._held(name):
                events = [Event.from_dict(raw) for raw in delivery.held_events or ()]
                delivery.held_events = None
                if plan is None:
                    discarded += 1
                    delivery.run_id, delivery.reason = None, DISCARDED_ON_RESUME
                    continue
                started = [self._insert_run(name, row.current, node, event, plan(node, event),
                                            now) for event in events]
                run_ids += started
                delivery.run_id, delivery.reason = started[0] if started else None, RUN_ON_RESUME
        if run_ids and self._on_work is not None:
            self._on_work()
        return Resumed(run_ids, discarded)

    def held_deliveries(self, name: str) -> int:
        with self._lock:
            self._canvas(name)
            return len(self._held(name))

    def _held(self, canvas: str) -> list[tuple[DeliveryRow, str]]:
        nodes = {e.id: e.node for e in self._t.endpoints.values() if e.canvas == canvas}
        held = [(d, nodes[d.endpoint_id]) for d in self._t.deliveries
                if d.endpoint_id in nodes and d.held_events is not None]
        return sorted(held, key=lambda pair: (pair[0].received_at, pair[0].id))



def _endpoint(row: EndpointRow, now: datetime) -> Endpoint:
    valid = [row.secret_enc] if row.secret_enc else []
    until = row.previous_valid_until
    in_grace = bool(row.previous_secret_enc) and until is not None and until > now
    if in_grace:
        valid.append(row.previous_secret_enc)  # type: ignore[arg-type]
    return Endpoint(
        id=row.id, canvas=row.canvas, node=row.node,
        secret_configured=row.secret_enc is not None, secrets_encrypted=tuple(valid),
        last_delivery_at=row.last_delivery_at,
        counts={outcome: row.counts.get(outcome, 0) for outcome in OUTCOMES},
        previous_valid_until=until if in_grace else None,
    )
