"""``MemoryQueue``: the memory store's runs and executions as the engine's rooms share
them — inserting runs, events and executions (leased to the local worker when it has a
free slot, ``store.handoff``), settling runs, ending executions, the attempts history —
and the worker's plumbing of the port. Every call holds one lock, as SQLite serialises
writers; a call's "commit" is its return, and hand-overs happen after the lock is
released, as the SQL store's happen after the commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store.codec import new_id
from incidentflow.store.handoff import Handoff, RunContext
from incidentflow.store.loop_bridge import on_loop
from incidentflow.store.memory_rows import (
    EventRow,
    ExecutionRow,
    RunRow,
    Tables,
    copied,
)
from incidentflow.store.port import (
    AttemptRecord,
    LocalWorker,
    NewExecution,
    WorkListener,
)

# The same rules as the SQL store's (store.work_queue, store.node_limits), stated once more
# here because the SQL modules cannot be imported without SQLAlchemy.
MAX_LEASE_EXPIRIES = 3
LEASE_EXPIRIES = "leaseExpiries"
DISCARD_MESSAGE = ("discarded by a person after the node's rate limit tripped; "
                   "it never ran")


class MemoryQueue:
    def __init__(self) -> None:
        self._t = Tables()
        self._lock = threading.RLock()
        self._attached: LocalWorker | None = None  # as given to ``attach_worker``
        self._local_worker: LocalWorker | None = None  # what hand-overs go to
        self._on_work: Callable[[], None] | None = None

    # -- waking and handing over work ------------------------------------------------
    def attach_worker(self, worker: LocalWorker) -> None:
        """Attached from an event loop, it is handed its executions on that loop, as
        the SQL store does (``store.loop_bridge.on_loop``)."""
        self._attached, self._local_worker = worker, on_loop(worker)

    def detach_worker(self, worker: LocalWorker) -> None:
        if self._attached is worker:
            self._attached = self._local_worker = None

    def wake_on_work(self, callback: Callable[[], None] | None) -> None:
        self._on_work = callback

    def listen_for_work(self, on_notify: Callable[[], None],
                        on_due: Callable[[datetime], None] | None = None) -> WorkListener | None:
        return None  # no other process shares this store

    def _handoff(self, now: datetime) -> Handoff | None:
        worker = self._local_worker
        return Handoff(worker, now) if worker is not None else None

    def _committed(self, handoff: Handoff | None, enqueued: int) -> None:
        """After a call that enqueued ``enqueued`` executions: hand over what was leased
        to the local worker, and wake the workers if any was left queued."""
        leased = len(handoff.jobs) if handoff is not None else 0
        if handoff is not None:
            handoff.settle(True)
        if enqueued > leased and self._on_work is not None:
            self._on_work()

    # -- runs and executions, inside the lock ------------------------------------------
    def _insert_run(self, canvas: str, version: int, node: str, event: Event,
                    first: list[NewExecution], now: datetime, handoff: Handoff | None = None,
                    run_id: str | None = None) -> str:
        run_id = run_id or new_id()
        event_id = self._insert_event(run_id, node, None, "default", event)
        self._t.runs[run_id] = RunRow(
            run_id, canvas, version, node, event_id, "running" if first else "succeeded",
            len(first), now, None if first else now)
        context = RunContext(run_id, canvas, version, copied(event))
        self._insert_executions(run_id, event_id, first, now, handoff, context)
        return run_id

    def _insert_event(self, run_id: str, node: str, execution_id: str | None, channel: str,
                      event: Event) -> str:
        event_id = new_id()
        self._t.events[event_id] = EventRow(event_id, run_id, node, execution_id, channel,
                                            copied(event))
        return event_id

    def _insert_executions(self, run_id: str, event_id: str, new: list[NewExecution],
                           now: datetime, handoff: Handoff | None,
                           run: RunContext | None) -> None:
        for item in new:
            execution_id = new_id()
            row = ExecutionRow(execution_id, run_id, item.node, event_id, f"if-{execution_id}",
                               item.concurrency_key, now,
                               next_attempt_at=item.not_before or now)
            lease = handoff.lease(item) if handoff is not None and run is not None else None
            if lease is not None and handoff is not None and run is not None:
                row.state, row.attempts, row.next_attempt_at = "running", 1, None
                row.lease_owner, row.lease_expires_at, row.started_at = lease[0], lease[1], now
                row.attempt_started_at = now
                handoff.add(run, execution_id, item, row.idempotency_key, lease[1])
            self._t.executions[execution_id] = row

    def _settle_run(self, run_id: str, enqueued: int, now: datetime) -> None:
        run = self._t.runs[run_id]
        run.pending += enqueued - 1
        if run.pending > 0 or run.state != "running":
            return
        failed = any(e.run_id == run_id and e.state == "failed"
                     for e in self._t.executions.values())
        run.state, run.finished_at = ("failed" if failed else "succeeded"), now

    def _leased(self, execution_id: str, worker_id: str) -> ExecutionRow | None:
        row = self._t.executions.get(execution_id)
        if row is None or row.state != "running" or row.lease_owner != worker_id:
            return None
        return row

    def _current_version(self, canvas: str) -> int:
        found = self._t.canvases.get(canvas)
        if found is None:
            raise NotFound(f"canvas {canvas!r} does not exist")
        return found.current

    def _end(self, row: ExecutionRow, state: Any, error: str | None,
             details: dict[str, Any] | None, resolved_config: dict[str, Any] | None,
             now: datetime) -> None:
        row.state, row.lease_owner, row.lease_expires_at = state, None, None
        row.error, row.error_details = error, copied(details)
        row.resolved_config, row.finished_at = copied(resolved_config), now

# The attempt outcomes kept in an execution's history (as ``store.attempts``).
RETRYING, FAILED, SUCCEEDED, LOST = "retrying", "failed", "succeeded", "lost"


def record_attempt(row: ExecutionRow, outcome: str, now: datetime, error: str | None = None,
             details: dict[str, Any] | None = None,
             next_attempt_at: datetime | None = None) -> None:
    """Record the attempt of ``row`` that ends now in its history."""
    row.history.append(AttemptRecord(row.attempts, outcome, error, copied(details),
                                     row.attempt_started_at, now, next_attempt_at))
