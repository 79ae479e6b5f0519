"""``SqlCanvases``: the SQL store's room of canvases (``store/canvas_rows.py``), their
webhook endpoints (``store/endpoints.py``), deliveries (``store/accepts.py``, through
the hot path's writer jobs) and pauses (``store/pauses.py``).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from incidentflow.canvas import Canvas, Node
from incidentflow.events import Event
from incidentflow.store import canvas_rows, history, pauses
from incidentflow.store import endpoints as endpoint_rows
from incidentflow.store import schedules as schedule_rows
from incidentflow.store.records import (
    CanvasRecord,
    CanvasSummary,
    DeliveryRecord,
    DeliveryResult,
    Endpoint,
    NewExecution,
    Resumed,
    SavedCanvas,
)
from incidentflow.store.sql_hot_writes import SqlHotWrites

if TYPE_CHECKING:
    from incidentflow.store.node_roles import NodeRoles


class SqlCanvases(SqlHotWrites):
    _roles: NodeRoles  # which nodes get endpoints, which are triggers (``SqlStore``)

    # -- canvases (store/canvas_rows.py) ---------------------------------------------------
    def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime
    ) -> SavedCanvas:
        with self._db.write() as conn:
            return canvas_rows.save(conn, canvas, source, warnings, now,
                                    self._roles.webhook_nodes(canvas),
                                    self._schedule_nodes(canvas))

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        with self._db.read() as conn:
            return canvas_rows.get(conn, name, version)

    def list_canvases(self) -> list[CanvasSummary]:
        with self._db.read() as conn:
            return canvas_rows.summaries(conn, self._roles.trigger_nodes)

    def delete_canvas(self, name: str) -> None:
        with self._db.write() as conn:
            canvas_rows.delete(conn, name)

    # -- webhook endpoints (store/endpoints.py) --------------------------------------------
    def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint:
        with self._db.read() as conn:
            return endpoint_rows.by_id(conn, endpoint_id, now)

    def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint:
        with self._db.read() as conn:
            return endpoint_rows.by_node(conn, canvas, node, now)

    def set_endpoint_secret(
        self, canvas: str, node: str, secret_encrypted: str | None, now: datetime
    ) -> Endpoint:
        with self._db.write() as conn:
            return endpoint_rows.set_secret(conn, canvas, node, secret_encrypted, now)

    # -- deliveries (store/accepts.py) -------------------------------------------------------
    def accept_delivery(
        self, endpoint_id: str, webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]], now: datetime, reason: str = "",
    ) -> DeliveryResult:
        # Group commit (store.writer): concurrent deliveries share one transaction and
        # one fsync; answered only after the commit.
        return self._db.writer.write(
            self.accept_write(endpoint_id, webhook_id, events, now, reason))

    def record_rejection(
        self, endpoint_id: str, reason: str, now: datetime, code: str = "other"
    ) -> None:
        self._db.writer.write(self.reject_write(endpoint_id, reason, now, code))

    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        with self._db.read() as conn:
            return history.recent_deliveries(conn, endpoint_id, limit)

    # -- pause and resume (store/pauses.py) ------------------------------------------------
    def pause_canvas(self, name: str, now: datetime) -> datetime:
        with self._db.write() as conn:
            return pauses.pause(conn, name, now)

    def resume_canvas(
        self, name: str, plan: pauses.Plan | None, now: datetime
    ) -> Resumed:
        resume = partial(pauses.resume, name=name, plan=plan, now=now)
        # Through the writer, as start_run: the runs it starts wake the workers.
        resumed: Resumed = self._db.writer.submit(
            resume, lambda done: bool(done.run_ids)).result()
        return resumed

    def held_deliveries(self, name: str) -> int:
        with self._db.read() as conn:
            return pauses.held_count(conn, name)

    # -- which nodes are schedules (the store's own node type) ------------------------------
    def _schedule_nodes(self, canvas: Canvas) -> list[Node]:
        return [n for n in canvas.nodes if n.type == schedule_rows.SCHEDULE_TYPE]
