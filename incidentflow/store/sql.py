"""``SqlStore``: the ``Store`` port on SQLAlchemy Core, for SQLite and PostgreSQL.

Every public method is one transaction. Work-creating commits call ``on_work`` after
the commit, so an in-process worker wakes at once (see ``engine.wakeup``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.canvas import Canvas
from incidentflow.components.base import WebhookTrigger
from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store import endpoints as endpoint_rows
from incidentflow.store import history, queue
from incidentflow.store.codec import canvas_from_spec, canvas_to_spec, new_id, spec_hash
from incidentflow.store.database import Database
from incidentflow.store.port import (
    CanvasRecord,
    CanvasSummary,
    ClaimedExecution,
    DeliveryOutcome,
    DeliveryRecord,
    DeliveryResult,
    Emitted,
    Endpoint,
    IntegrationRecord,
    NewExecution,
    RunRecord,
    SavedCanvas,
)
from incidentflow.store.schema import canvas_versions, canvases, deliveries, integrations, runs

if TYPE_CHECKING:
    from incidentflow.registry import Registry


class SqlStore:
    def __init__(
        self,
        database_url: str,
        registry: Registry | None = None,
        *,
        on_work: Callable[[], None] | None = None,
        sqlite_synchronous: str = "FULL",
    ):
        """``registry`` tells which node types are webhook triggers and which are
        triggers at all (default: ``default_registry()``, loaded on first need).
        ``on_work`` is called after every commit that made executions due."""
        self._db = Database(database_url, sqlite_synchronous)
        self._registry = registry
        self.on_work = on_work

    # -- schema ------------------------------------------------------------------------
    def migrate(self) -> None:
        self._db.migrate()

    def ping(self) -> None:
        with self._db.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self._db.close()

    @property
    def engine(self) -> sa.Engine:
        return self._db.engine

    # -- canvases ----------------------------------------------------------------------
    def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime
    ) -> SavedCanvas:
        spec = canvas_to_spec(canvas)
        digest = spec_hash(spec)
        with self._db.write() as conn:
            current = conn.execute(
                sa.select(canvases.c.current_version, canvas_versions.c.content_hash)
                .join(canvas_versions, sa.and_(
                    canvas_versions.c.canvas == canvases.c.name,
                    canvas_versions.c.version == canvases.c.current_version,
                ))
                .where(canvases.c.name == canvas.name)
            ).first()
            if current is not None and current.content_hash == digest:
                return SavedCanvas(canvas.name, current.current_version, created=False)
            version = 1 if current is None else current.current_version + 1
            _upsert_canvas(conn, canvas.name, version, now)
            conn.execute(
                canvas_versions.insert().values(
                    canvas=canvas.name, version=version, spec=spec, source=source,
                    content_hash=digest, warnings=warnings, created_at=now,
                )
            )
            endpoint_rows.sync(conn, canvas.name, self._webhook_nodes(canvas), now)
        return SavedCanvas(canvas.name, version, created=True)

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        with self._db.read() as conn:
            head = conn.execute(sa.select(canvases).where(canvases.c.name == name)).first()
            if head is None:
                raise NotFound(f"canvas {name!r} does not exist")
            wanted = head.current_version if version is None else version
            row = conn.execute(
                sa.select(canvas_versions).where(
                    canvas_versions.c.canvas == name, canvas_versions.c.version == wanted
                )
            ).first()
        if row is None:
            raise NotFound(f"canvas {name!r} has no version {wanted}")
        return CanvasRecord(
            name=name, version=wanted, canvas=canvas_from_spec(row.spec), source=row.source,
            created_at=head.created_at, updated_at=head.updated_at, warnings=row.warnings,
        )

    def list_canvases(self) -> list[CanvasSummary]:
        with self._db.read() as conn:
            heads = conn.execute(
                sa.select(canvases, canvas_versions.c.spec)
                .join(canvas_versions, sa.and_(
                    canvas_versions.c.canvas == canvases.c.name,
                    canvas_versions.c.version == canvases.c.current_version,
                ))
                .order_by(canvases.c.name)
            ).all()
            return [self._summary(conn, head) for head in heads]

    def _summary(self, conn: Connection, head: Any) -> CanvasSummary:
        last = conn.execute(
            sa.select(runs.c.id, runs.c.state, runs.c.created_at)
            .where(runs.c.canvas == head.name)
            .order_by(runs.c.id.desc())
            .limit(1)
        ).first()
        return CanvasSummary(
            name=head.name, version=head.current_version, updated_at=head.updated_at,
            triggers=self._trigger_nodes(canvas_from_spec(head.spec)),
            last_run_id=last.id if last else None,
            last_run_state=last.state if last else None,
            last_run_at=last.created_at if last else None,
        )

    def delete_canvas(self, name: str) -> None:
        with self._db.write() as conn:
            gone = conn.execute(canvases.delete().where(canvases.c.name == name)).rowcount
        if not gone:
            raise NotFound(f"canvas {name!r} does not exist")

    # -- webhook endpoints ---------------------------------------------------------------
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

    # -- deliveries and runs -------------------------------------------------------------
    def accept_delivery(
        self,
        endpoint_id: str,
        webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]],
        now: datetime,
    ) -> DeliveryResult:
        try:
            with self._db.write() as conn:
                result = self._accept(conn, endpoint_id, webhook_id, events, now)
        except sa.exc.IntegrityError:
            if webhook_id is None:
                raise
            # A concurrent delivery with the same webhook-id committed first.
            with self._db.write() as conn:
                endpoint_rows.count(conn, endpoint_id, "duplicate", now)
            return DeliveryResult("duplicate", [])
        if any(first for _, first in events):
            self._notify()
        return result

    def _accept(
        self,
        conn: Connection,
        endpoint_id: str,
        webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]],
        now: datetime,
    ) -> DeliveryResult:
        endpoint = endpoint_rows.by_id(conn, endpoint_id, now)
        if webhook_id is not None and _seen(conn, endpoint_id, webhook_id):
            endpoint_rows.count(conn, endpoint_id, "duplicate", now)
            return DeliveryResult("duplicate", [])
        outcome: DeliveryOutcome = "accepted" if events else "ignored"
        run_ids = [new_id() for _ in events]
        # The delivery row goes first: a concurrent duplicate fails here, cheaply.
        conn.execute(
            deliveries.insert().values(
                id=new_id(), endpoint_id=endpoint_id, webhook_id=webhook_id, outcome=outcome,
                reason="" if events else "no event to run", run_id=run_ids[0] if run_ids else None,
                received_at=now,
            )
        )
        version = _current_version(conn, endpoint.canvas)
        for run_id, (event, first) in zip(run_ids, events, strict=True):
            queue.insert_run(
                conn, endpoint.canvas, version, endpoint.node, event, first, now, run_id
            )
        endpoint_rows.count(conn, endpoint_id, outcome, now)
        return DeliveryResult(outcome, run_ids)

    def record_rejection(self, endpoint_id: str, reason: str, now: datetime) -> None:
        with self._db.write() as conn:
            endpoint_rows.by_id(conn, endpoint_id, now)
            conn.execute(
                deliveries.insert().values(
                    id=new_id(), endpoint_id=endpoint_id, webhook_id=None, outcome="rejected",
                    reason=reason, run_id=None, received_at=now,
                )
            )
            endpoint_rows.count(conn, endpoint_id, "rejected", now)

    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        with self._db.read() as conn:
            return history.recent_deliveries(conn, endpoint_id, limit)

    def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime
    ) -> str:
        with self._db.write() as conn:
            version = _current_version(conn, canvas)
            run_id = queue.insert_run(conn, canvas, version, node, event, first, now)
        if first:
            self._notify()
        return run_id

    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        with self._db.read() as conn:
            return history.list_runs(conn, canvas, limit)

    def get_run(self, run_id: str) -> RunRecord:
        with self._db.read() as conn:
            return history.get_run(conn, run_id)

    # -- executions ----------------------------------------------------------------------
    def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        if limit < 1:
            return []
        with self._db.write() as conn:
            return queue.claim(conn, worker_id, now, lease_seconds, limit)

    def finish(
        self,
        execution_id: str,
        worker_id: str,
        resolved_config: dict[str, Any] | None,
        emitted: list[Emitted],
        now: datetime,
    ) -> bool:
        with self._db.write() as conn:
            done = queue.finish(conn, execution_id, worker_id, resolved_config, emitted, now)
        if done and any(item.downstream for item in emitted):
            self._notify()
        return done

    def retry_later(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        next_attempt_at: datetime,
        now: datetime,
    ) -> bool:
        with self._db.write() as conn:
            return queue.retry_later(
                conn, execution_id, worker_id, error, details, resolved_config, next_attempt_at
            )

    def fail(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> bool:
        with self._db.write() as conn:
            return queue.fail(conn, execution_id, worker_id, error, details, resolved_config, now)

    def release(self, worker_id: str, now: datetime) -> int:
        with self._db.write() as conn:
            released = queue.release(conn, worker_id, now)
        if released:
            self._notify()
        return released

    def node_events(self, run_id: str) -> dict[str, Event]:
        with self._db.read() as conn:
            return queue.node_events(conn, run_id)

    def queue_depth(self, now: datetime) -> int:
        with self._db.read() as conn:
            return queue.queue_depth(conn, now)

    # -- integrations --------------------------------------------------------------------
    def put_integration(
        self,
        name: str,
        type_: str,
        config: dict[str, Any],
        secrets_encrypted: dict[str, str],
        status: str,
        reason: str,
        now: datetime,
    ) -> IntegrationRecord:
        values = {
            "type": type_, "config": config, "secrets_enc": secrets_encrypted,
            "status": status, "reason": reason, "updated_at": now,
        }
        with self._db.write() as conn:
            changed = conn.execute(
                integrations.update().where(integrations.c.name == name).values(**values)
            ).rowcount
            if not changed:
                conn.execute(integrations.insert().values(name=name, created_at=now, **values))
            return _integration(conn, name)

    def get_integration(self, name: str) -> IntegrationRecord:
        with self._db.read() as conn:
            return _integration(conn, name)

    def list_integrations(self) -> list[IntegrationRecord]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(integrations).order_by(integrations.c.name))
            return [_integration_record(row) for row in rows]

    def delete_integration(self, name: str) -> None:
        with self._db.write() as conn:
            gone = conn.execute(integrations.delete().where(integrations.c.name == name))
        if not gone.rowcount:
            raise NotFound(f"integration {name!r} does not exist")

    # -- helpers -------------------------------------------------------------------------
    def _notify(self) -> None:
        if self.on_work is not None:
            self.on_work()

    def _registry_now(self) -> Registry:
        if self._registry is None:
            from incidentflow.registry import default_registry

            self._registry = default_registry()
        return self._registry

    def _webhook_nodes(self, canvas: Canvas) -> list[str]:
        components = self._registry_now().components
        return [
            n.name for n in canvas.nodes if isinstance(components.get(n.type), WebhookTrigger)
        ]

    def _trigger_nodes(self, canvas: Canvas) -> list[str]:
        components = self._registry_now().components
        return [
            n.name
            for n in canvas.nodes
            if n.type in components and components[n.type].role == "trigger"
        ]


def _upsert_canvas(conn: Connection, name: str, version: int, now: datetime) -> None:
    changed = conn.execute(
        canvases.update()
        .where(canvases.c.name == name)
        .values(current_version=version, updated_at=now)
    ).rowcount
    if not changed:
        conn.execute(
            canvases.insert().values(
                name=name, current_version=version, created_at=now, updated_at=now
            )
        )


def _current_version(conn: Connection, canvas: str) -> int:
    version = conn.scalar(sa.select(canvases.c.current_version).where(canvases.c.name == canvas))
    if version is None:
        raise NotFound(f"canvas {canvas!r} does not exist")
    return int(version)


def _seen(conn: Connection, endpoint_id: str, webhook_id: str) -> bool:
    query = sa.select(deliveries.c.id).where(
        deliveries.c.endpoint_id == endpoint_id, deliveries.c.webhook_id == webhook_id
    )
    return conn.execute(query).first() is not None


def _integration(conn: Connection, name: str) -> IntegrationRecord:
    row = conn.execute(sa.select(integrations).where(integrations.c.name == name)).first()
    if row is None:
        raise NotFound(f"integration {name!r} does not exist")
    return _integration_record(row)


def _integration_record(row: Any) -> IntegrationRecord:
    return IntegrationRecord(
        name=row.name, type=row.type, config=row.config, secrets_encrypted=row.secrets_enc,
        status=row.status, reason=row.reason, created_at=row.created_at,
        updated_at=row.updated_at,
    )
