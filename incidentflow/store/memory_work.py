"""``MemoryWork``: the engine's half of ``InMemoryStore`` (claims with per-key ordering,
leases and their expiry, finishes, retries, failures). The same behaviour as
``store.sql_work.SqlWork`` on the SQL tables, held in ``store.memory_rows`` and written
through ``store.memory_queue``; the store behaviour suite (tests/store) runs on both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from incidentflow.events import Event
from incidentflow.store.handoff import RunContext
from incidentflow.store.memory_queue import (
    FAILED,
    LEASE_EXPIRIES,
    LOST,
    MAX_LEASE_EXPIRIES,
    RETRYING,
    SUCCEEDED,
    MemoryQueue,
    record_attempt,
)
from incidentflow.store.memory_rows import (
    ExecutionRow,
    copied,
    storable,
)
from incidentflow.store.port import (
    ClaimedExecution,
    Emitted,
)


class MemoryWork(MemoryQueue):
    # -- claims --------------------------------------------------------------------------
    def claim(self, worker_id: str, now: datetime, lease_seconds: float,
              limit: int) -> list[ClaimedExecution]:
        if limit < 1:
            return []
        with self._lock:
            due = self._due_queued(now, limit)
            if len(due) < limit:  # then work whose worker died (lease expired)
                due += self._expired(now, limit - len(due))
            expires = now + timedelta(seconds=lease_seconds)
            for row in due:
                row.state, row.lease_owner, row.lease_expires_at = "running", worker_id, expires
                row.attempts += 1
                row.next_attempt_at = None
                row.started_at = row.started_at or now
                row.attempt_started_at = now
            return [self._claimed(row) for row in sorted(due, key=lambda r: r.id)]

    def _due_queued(self, now: datetime, limit: int) -> list[ExecutionRow]:
        rows = self._t.executions.values()
        blocked: dict[str, str] = {}  # key -> the id before which others of it wait
        for row in rows:
            key = row.concurrency_key
            if key is None:
                continue
            if row.state == "running":
                blocked[key] = ""  # everything of the key waits
            elif row.state == "queued":
                first = blocked.get(key)
                if first is None or (first and row.id < first):
                    blocked[key] = row.id
        due = [row for row in rows
               if row.state == "queued" and row.next_attempt_at is not None
               and row.next_attempt_at <= now
               and (row.concurrency_key is None or blocked.get(row.concurrency_key) == row.id)]
        due.sort(key=lambda r: (r.next_attempt_at, r.id))
        return due[:limit]

    def _expired(self, now: datetime, limit: int) -> list[ExecutionRow]:
        expired = sorted((row for row in self._t.executions.values()
                          if row.state == "running" and row.lease_expires_at is not None
                          and row.lease_expires_at <= now), key=lambda r: r.lease_expires_at or now)
        taken = []
        for row in expired[:limit]:
            details = row.error_details if isinstance(row.error_details, dict) else {}
            counted = details.get(LEASE_EXPIRIES)
            count = (counted if isinstance(counted, int) else 0) + 1
            error = (f"its worker stopped while running it (lease expired) {count} "
                     f"time{'s' if count > 1 else ''} in a row")
            if count >= MAX_LEASE_EXPIRIES:
                self._end(row, "failed", f"{error}; failed rather than taken over again "
                          "(see the worker logs for what stopped it)", {LEASE_EXPIRIES: count},
                          None, now)
                self._settle_run(row.run_id, 0, now)
                continue
            row.error, row.error_details = error, {LEASE_EXPIRIES: count}
            # the lost attempt, in the history
            record_attempt(row, LOST, now, error, row.error_details)
            taken.append(row)
        return taken

    def _claimed(self, row: ExecutionRow) -> ClaimedExecution:
        run = self._t.runs[row.run_id]
        return ClaimedExecution(
            id=row.id, run_id=row.run_id, canvas=run.canvas, canvas_version=run.canvas_version,
            node=row.node, input=copied(self._t.events[row.input_event_id].event),
            attempt=row.attempts, idempotency_key=row.idempotency_key,
            root=copied(self._t.events[run.root_event_id].event),
            lease_expires_at=row.lease_expires_at,  # type: ignore[arg-type]
        )

    # -- outcomes ------------------------------------------------------------------------
    def finish(self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
               emitted: list[Emitted], now: datetime,
               origin: ClaimedExecution | None = None) -> bool:
        enqueued = sum(len(item.downstream) for item in emitted)
        handoff = self._handoff(now) if origin is not None and enqueued else None
        run = None if origin is None else RunContext(origin.run_id, origin.canvas,
                                                     origin.canvas_version, origin.root)
        storable(resolved_config, *(item.event.data for item in emitted),
                 *(new.input.data for item in emitted for new in item.downstream))
        with self._lock:
            row = self._leased(execution_id, worker_id)
            if row is None:
                return False
            if row.attempts > 1:  # a success after failed attempts, in the history
                record_attempt(row, SUCCEEDED, now)
            self._end(row, "succeeded", None, None, resolved_config, now)
            reported = False
            for item in emitted:
                event_id = self._insert_event(row.run_id, row.node, row.id, item.channel,
                                              item.event)
                self._insert_executions(row.run_id, event_id, item.downstream, now, handoff, run)
                created = self._t.created.get(row.id)
                if item.created_id is not None and not reported and created is not None:
                    reported = True  # one object per create execution
                    created.state, created.object_id = "created", item.created_id
            self._settle_run(row.run_id, enqueued, now)
        self._committed(handoff, enqueued)
        return True

    def retry_later(self, execution_id: str, worker_id: str, error: str,
                    details: dict[str, Any] | None, resolved_config: dict[str, Any] | None,
                    next_attempt_at: datetime, now: datetime) -> bool:
        with self._lock:
            row = self._leased(execution_id, worker_id)
            if row is None:
                return False
            record_attempt(row, RETRYING, now, error, details, next_attempt_at)
            self._end(row, "queued", error, details, resolved_config, now)
            row.finished_at, row.next_attempt_at = None, next_attempt_at
            return True

    def fail(self, execution_id: str, worker_id: str, error: str,
             details: dict[str, Any] | None, resolved_config: dict[str, Any] | None,
             now: datetime) -> bool:
        with self._lock:
            row = self._leased(execution_id, worker_id)
            if row is None:
                return False
            record_attempt(row, FAILED, now, error, details)
            self._end(row, "failed", error, details, resolved_config, now)
            self._settle_run(row.run_id, 0, now)
            return True

    def release(self, worker_id: str, now: datetime) -> int:
        with self._lock:
            held = [row for row in self._t.executions.values()
                    if row.lease_owner == worker_id and row.state == "running"]
            for row in held:  # it never ran: the attempt it was claimed for goes back too
                row.state, row.lease_owner, row.lease_expires_at = "queued", None, None
                row.next_attempt_at, row.attempts = now, row.attempts - 1
        self._committed(None, len(held))
        return len(held)

    def extend_leases(self, worker_id: str, execution_ids: list[str], now: datetime,
                      lease_seconds: float) -> int:
        with self._lock:
            held = [row for row in map(self._t.executions.get, execution_ids)
                    if row is not None and row.state == "running"
                    and row.lease_owner == worker_id]
            for row in held:
                row.lease_expires_at = now + timedelta(seconds=lease_seconds)
            return len(held)

    def next_due(self, now: datetime) -> datetime | None:
        with self._lock:
            later = [row.next_attempt_at for row in self._t.executions.values()
                     if row.state == "queued" and row.next_attempt_at is not None
                     and row.next_attempt_at > now]
        return min(later, default=None)

    def node_events(self, run_id: str) -> dict[str, Event]:
        with self._lock:
            found = sorted((e for e in self._t.events.values() if e.run_id == run_id),
                           key=lambda e: e.id)
            return {e.node: copied(e.event) for e in found}

    def queue_depth(self, now: datetime) -> int:
        with self._lock:
            return sum(1 for row in self._t.executions.values() if (
                row.state == "queued" and row.next_attempt_at is not None
                and row.next_attempt_at <= now) or (
                row.state == "running" and row.lease_expires_at is not None
                and row.lease_expires_at <= now))
