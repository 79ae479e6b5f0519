"""``MemoryWork``: the engine's half of ``InMemoryStore`` (runs enqueued, claims with
per-key ordering, leases and their expiry, finishes, retries, failures, hand-over to
the local worker, the create rate limit, in-flight creates). The same behaviour as
``store.sql_work.SqlWork`` on the SQL tables, held in ``store.memory_rows``; the
store behaviour suite (tests/store) runs on both.

One lock serialises every call, as SQLite serialises writers; a call's "commit" is
its return. Hand-overs happen after the lock is released, as the SQL store's happen
after the commit.

Why a class of some 25 methods (over the usual ~20), and a module over 400 lines: it
is the worker's half of the ``Store`` port, method for method; each is a few lines on
the tables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store.codec import new_id
from incidentflow.store.handoff import Handoff, RunContext
from incidentflow.store.loop_bridge import on_loop
from incidentflow.store.memory_rows import (
    CreatedRow,
    EventRow,
    ExecutionRow,
    NodeLimitRow,
    RunRow,
    Tables,
    copied,
    storable,
)
from incidentflow.store.port import (
    Admission,
    AttemptRecord,
    ClaimedExecution,
    Emitted,
    LocalWorker,
    NewExecution,
    NodeLimitState,
    NodeResumed,
    SelfCreated,
    WorkListener,
)

# The same rules as the SQL store's (store.work_queue, store.node_limits), stated once more
# here because the SQL modules cannot be imported without SQLAlchemy.
MAX_LEASE_EXPIRIES = 3
LEASE_EXPIRIES = "leaseExpiries"
DISCARD_MESSAGE = ("discarded by a person after the node's rate limit tripped; "
                   "it never ran")


class MemoryWork:
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
            _attempt(row, LOST, now, error, row.error_details)  # the lost attempt, in the history
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
                _attempt(row, SUCCEEDED, now)
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

    def _end(self, row: ExecutionRow, state: Any, error: str | None,
             details: dict[str, Any] | None, resolved_config: dict[str, Any] | None,
             now: datetime) -> None:
        row.state, row.lease_owner, row.lease_expires_at = state, None, None
        row.error, row.error_details = error, copied(details)
        row.resolved_config, row.finished_at = copied(resolved_config), now

    def retry_later(self, execution_id: str, worker_id: str, error: str,
                    details: dict[str, Any] | None, resolved_config: dict[str, Any] | None,
                    next_attempt_at: datetime, now: datetime) -> bool:
        with self._lock:
            row = self._leased(execution_id, worker_id)
            if row is None:
                return False
            _attempt(row, RETRYING, now, error, details, next_attempt_at)
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
            _attempt(row, FAILED, now, error, details)
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

    # -- the self-trigger guard's creates -----------------------------------------------
    def begin_create(self, canvas: str, kind: str, execution_id: str, run_id: str,
                     now: datetime) -> None:
        with self._lock:
            self._t.created[execution_id] = CreatedRow(canvas, kind, run_id, "in_flight", now)

    def forget_create(self, execution_id: str) -> None:
        with self._lock:
            found = self._t.created.get(execution_id)
            if found is not None and found.state == "in_flight":
                del self._t.created[execution_id]

    def self_created(self, canvas: str, kinds: frozenset[str], object_id: str,
                     live_since: datetime) -> SelfCreated:
        created_by, in_flight = None, set()
        with self._lock:
            for execution_id, row in self._t.created.items():
                if row.canvas != canvas or row.kind not in kinds:
                    continue
                if row.state == "created" and row.object_id == object_id:
                    created_by = row.run_id
                elif row.state == "in_flight" and row.started_at >= live_since:
                    in_flight.add(execution_id)
        return SelfCreated(created_by, frozenset(in_flight))

    # -- the create rate limit -----------------------------------------------------------
    def take_create_slot(self, execution_id: str, worker_id: str, canvas: str, node: str,
                         limit: RateLimit, resolved_config: dict[str, Any] | None,
                         now: datetime) -> Admission:
        with self._lock:
            row = self._leased(execution_id, worker_id)
            if row is None:  # the lease was lost: its new holder decides
                return Admission(admitted=False)
            if row.admitted_at is not None:  # a retry, or released by a person
                return Admission(admitted=True)
            window = self._t.node_limits.setdefault(
                (canvas, node), NodeLimitRow(now - timedelta(seconds=limit.per)))
            if window.tripped_at is None:
                if window.window_start <= now - timedelta(seconds=limit.per):
                    window.window_start, window.window_count = now, 0
                if window.window_count < limit.max:
                    window.window_count += 1
                    row.admitted_at = now
                    return Admission(admitted=True)
            tripped_now = window.tripped_at is None
            window.tripped_at = window.tripped_at or now
            self._end(row, "held", held_message(node, limit), None, resolved_config, now)
            row.finished_at, row.next_attempt_at = None, None
            row.attempts -= 1  # the attempt it was claimed for is handed back: it never ran
            return Admission(admitted=False, held=True, tripped_now=tripped_now)

    def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        with self._lock:
            held: dict[tuple[str, str], int] = {}
            for row in self._t.executions.values():
                run = self._t.runs[row.run_id]
                if row.state == "held" and canvas in (None, run.canvas):
                    held[(run.canvas, row.node)] = held.get((run.canvas, row.node), 0) + 1
            found = []
            for (name, node), window in sorted(self._t.node_limits.items()):
                if canvas not in (None, name):
                    continue
                started = window.window_start if window.window_count else None
                found.append(NodeLimitState(name, node, started, window.window_count,
                                            window.tripped_at, held.pop((name, node), 0)))
        return found + [NodeLimitState(c, n, None, 0, None, count)
                        for (c, n), count in sorted(held.items())]

    def resume_node(self, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
        with self._lock:
            self._current_version(canvas)  # NotFound for an unknown canvas
            window = self._t.node_limits.get((canvas, node))
            if window is not None:
                window.tripped_at, window.window_start, window.window_count = None, now, 0
            held = sorted((row for row in self._t.executions.values()
                           if row.state == "held" and row.node == node
                           and self._t.runs[row.run_id].canvas == canvas),
                          key=lambda r: r.id)
            for row in held:
                if release:
                    row.state, row.next_attempt_at, row.admitted_at = "queued", now, now
                    row.error = None
                else:
                    row.state, row.finished_at, row.error = "discarded", now, DISCARD_MESSAGE
                    self._settle_run(row.run_id, 0, now)
        if release:
            self._committed(None, len(held))
            return NodeResumed(released=len(held))
        return NodeResumed(discarded=len(held))


def held_message(node: str, limit: RateLimit) -> str:
    return (f"node {node!r} went past its rate limit ({limit.describe()}) and tripped; "
            "this execution is held until a person resumes the node (release or discard)")


# The attempt outcomes kept in an execution's history (as ``store.attempts``).
RETRYING, FAILED, SUCCEEDED, LOST = "retrying", "failed", "succeeded", "lost"


def _attempt(row: ExecutionRow, outcome: str, now: datetime, error: str | None = None,
             details: dict[str, Any] | None = None,
             next_attempt_at: datetime | None = None) -> None:
    """Record the attempt of ``row`` that ends now in its history."""
    row.history.append(AttemptRecord(row.attempts, outcome, error, copied(details),
                                     row.attempt_started_at, now, next_attempt_at))
