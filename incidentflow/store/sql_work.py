"""``SqlWork``: the engine's side of the SQL store (claims, finishes, leases, the
create rate limit, the self-trigger guard's creates), on the group-commit writer.
The hot path's jobs are built by ``store.sql_hot_writes.SqlHotWrites``, which this class
extends; here a blocking caller waits for their commit. ``store.sql.SqlStore`` adds
the rest.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store import canvas_rows, guards, node_limits, work_queue
from incidentflow.store.records import (
    Admission,
    ClaimedExecution,
    Emitted,
    NodeLimitState,
    NodeResumed,
    SelfCreated,
)
from incidentflow.store.sql_hot_writes import SqlHotWrites


class SqlWork(SqlHotWrites):
    # -- executions -------------------------------------------------------------------
    def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        if limit < 1:
            return []
        return self._db.writer.write(self.claim_write(worker_id, now, lease_seconds, limit))

    def finish(
        self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
        emitted: list[Emitted], now: datetime, origin: ClaimedExecution | None = None,
    ) -> bool:
        return self._db.writer.write(self.finish_write(
            execution_id, worker_id, resolved_config, emitted, now, origin))

    def retry_later(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, next_attempt_at: datetime, now: datetime,
    ) -> bool:
        return self._db.writer.write(self.retry_later_write(
            execution_id, worker_id, error, details, resolved_config, next_attempt_at, now))

    def fail(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> bool:
        return self._db.writer.write(self.fail_write(
            execution_id, worker_id, error, details, resolved_config, now))

    def release(self, worker_id: str, now: datetime) -> int:
        release = partial(work_queue.release, worker_id=worker_id, now=now)
        return self._db.writer.submit(release, lambda released: released > 0).result()

    def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float
    ) -> int:
        """Heartbeat: push the lease of these still-running executions forward; returns
        how many this worker still held (a lost one is not extended)."""
        return self._db.writer.write(
            self.extend_leases_write(worker_id, execution_ids, now, lease_seconds))

    def next_due(self, now: datetime) -> datetime | None:
        with self._db.read() as conn:
            return work_queue.next_due(conn, now)

    def node_events(self, run_id: str) -> dict[str, Event]:
        with self._db.read() as conn:
            return work_queue.node_events(conn, run_id)

    def queue_depth(self, now: datetime) -> int:
        with self._db.read() as conn:
            return work_queue.queue_depth(conn, now)

    # -- the create rate limit (store.node_limits) -----------------------------------------
    def take_create_slot(
        self, execution_id: str, worker_id: str, canvas: str, node: str, limit: RateLimit,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> Admission:
        return self._db.writer.write(self.take_create_slot_write(
            execution_id, worker_id, canvas, node, limit, resolved_config, now))

    def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        with self._db.read() as conn:
            return node_limits.states(conn, canvas)

    def resume_node(self, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
        def resume(conn: Connection) -> NodeResumed:
            canvas_rows.current_version(conn, canvas)  # NotFound for an unknown canvas
            return node_limits.resume(conn, canvas, node, release, now)

        # Released executions are queued again: wake the workers (NOTIFY elsewhere).
        return self._db.writer.submit(resume, lambda done: done.released > 0).result()

    # -- the self-trigger guard's creates (store.guards) ------------------------------------
    def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime
    ) -> None:
        self._db.writer.write(self.begin_create_write(canvas, kind, execution_id, run_id, now))

    def forget_create(self, execution_id: str) -> None:
        self._db.writer.write(self.forget_create_write(execution_id))

    def self_created(
        self, canvas: str, kinds: frozenset[str], object_id: str, live_since: datetime
    ) -> SelfCreated:
        with self._db.read() as conn:
            return guards.lookup(conn, canvas, kinds, object_id, live_since)
