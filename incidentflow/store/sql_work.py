"""``SqlWork``: the engine's side of the SQL store (claims, finishes, leases, the
hand-over to the local worker, the create rate limit, the self-trigger guard's
creates), on the group-commit writer. ``store.sql.SqlStore`` adds the rest.

Why a class of some 25 methods (over the usual ~20): it is the facade of the worker's
half of the ``Store`` port; each method is a few lines handing one SQL function
(``store.work_queue``, ``store.finishes``, ``store.node_limits``, ``store.guards``) to the
writer or a read transaction, and the rooms themselves live in those modules.

Work-creating commits call ``on_work`` after the commit, so an in-process worker wakes
at once (see ``engine.wakeup``), and on PostgreSQL send ``NOTIFY`` in the
transaction, so workers elsewhere wake too (``store.notify``). Concurrent hot-path
calls share one transaction and one fsync, and each answers only after that commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store import canvas_rows, guards, node_limits, work_queue
from incidentflow.store.database import Database
from incidentflow.store.finishes import Finish, finish_many
from incidentflow.store.handoff import Handoff, LocalWorker, RunContext
from incidentflow.store.notify import WorkListener, notify_workers
from incidentflow.store.port import (
    Admission,
    ClaimedExecution,
    Emitted,
    NodeLimitState,
    NodeResumed,
    SelfCreated,
)
from incidentflow.store.writer import Hooks, waited


class _Finishes:
    """The writer's group of ``finish`` jobs (``store.writer.Group``)."""

    def run_many(self, conn: Connection, payloads: list[Finish]) -> list[bool]:
        return finish_many(conn, payloads)


_FINISHES = _Finishes()


class SqlWork:
    def __init__(self, database_url: str, *, on_work: Callable[[], None] | None = None,
                 sqlite_synchronous: str = "FULL"):
        """``on_work`` is called after every commit that made executions due."""
        self._db = Database(database_url, sqlite_synchronous)
        self.on_work = on_work
        self._local_worker: LocalWorker | None = None
        self._db.writer.hooks = Hooks(
            before_commit=None if self._db.is_sqlite else notify_workers,
            after_commit=self._notify,
        )

    # -- waking and handing over work ------------------------------------------------
    def attach_worker(self, worker: LocalWorker) -> None:
        """New executions may be leased to ``worker`` as they are enqueued
        (``store.handoff``); one worker per store."""
        self._local_worker = worker

    def detach_worker(self, worker: LocalWorker) -> None:
        if self._local_worker is worker:
            self._local_worker = None

    def wake_on_work(self, callback: Callable[[], None] | None) -> None:
        self.on_work = callback

    def listen_for_work(
        self, on_notify: Callable[[], None], on_due: Callable[[datetime], None] | None = None,
    ) -> WorkListener | None:
        """PostgreSQL: a started LISTEN thread calling ``on_notify`` when another process
        commits work, ``on_due(when)`` when it queued work for later (stop it with
        ``.stop()``). SQLite: None (poll fallback)."""
        if self._db.is_sqlite:
            return None
        return WorkListener(self._db.engine.url, on_notify, on_due).start()

    def _handoff(self, now: datetime) -> Handoff | None:
        worker = self._local_worker
        return Handoff(worker, now) if worker is not None else None

    def _notify(self) -> None:
        if self.on_work is not None:
            self.on_work()

    # -- executions -------------------------------------------------------------------
    def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        claimed: list[ClaimedExecution] = waited(
            self.claim_then, worker_id, now, lease_seconds, limit)
        return claimed

    def claim_then(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int,
        then: Callable[[list[ClaimedExecution] | None, BaseException | None], None],
    ) -> None:
        """``claim`` without blocking (see ``finish_then``)."""
        if limit < 1:
            then([], None)
            return
        claim = partial(work_queue.claim, worker_id=worker_id, now=now,
                        lease_seconds=lease_seconds, limit=limit)
        self._db.writer.submit_then(claim, then, durable=False)

    def finish(
        self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
        emitted: list[Emitted], now: datetime, origin: ClaimedExecution | None = None,
    ) -> bool:
        """``origin`` (the finished execution as claimed) lets its downstream executions
        be handed to the local worker (``store.handoff``) without another query."""
        done: bool = waited(
            self.finish_then, execution_id, worker_id, resolved_config, emitted, now, origin)
        return done

    def finish_then(
        self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
        emitted: list[Emitted], now: datetime, origin: ClaimedExecution | None,
        then: Callable[[bool | None, BaseException | None], None],
    ) -> None:
        """``finish`` without blocking: ``then(recorded, error)`` is called (in the
        writer thread) once it is committed. For the worker's event loop, which must
        not wait in a thread."""
        enqueued = sum(len(item.downstream) for item in emitted)
        handoff = self._handoff(now) if origin is not None and enqueued else None
        run = None
        if origin is not None:
            run = RunContext(origin.run_id, origin.canvas, origin.canvas_version, origin.root)
        item = Finish(execution_id, worker_id, resolved_config, emitted, now, handoff, run)

        def finish(conn: Connection) -> bool:  # alone, when its batch is redone
            return finish_many(conn, [item])[0]

        # Grouped: the batch's finishes are recorded set-based (store.finishes).
        self._db.writer.submit_then(
            finish, then, lambda done: done and left_queued(handoff, enqueued),
            after=handoff.settle if handoff else None, group=_FINISHES, payload=item,
        )

    def retry_later(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, next_attempt_at: datetime, now: datetime,
    ) -> bool:
        retry = partial(work_queue.retry_later, execution_id=execution_id, worker_id=worker_id,
                        error=error, details=details, resolved_config=resolved_config,
                        next_attempt_at=next_attempt_at, now=now)
        return self._db.writer.submit(retry).result()

    def fail(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> bool:
        fail = partial(work_queue.fail, execution_id=execution_id, worker_id=worker_id, error=error,
                       details=details, resolved_config=resolved_config, now=now)
        return self._db.writer.submit(fail).result()

    def release(self, worker_id: str, now: datetime) -> int:
        release = partial(work_queue.release, worker_id=worker_id, now=now)
        return self._db.writer.submit(release, lambda released: released > 0).result()

    def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float
    ) -> int:
        """Heartbeat: push the lease of these still-running executions forward; returns
        how many this worker still held (a lost one is not extended)."""
        extend = partial(work_queue.extend_leases, worker_id=worker_id, ids=execution_ids,
                         now=now, lease_seconds=lease_seconds)
        return self._db.writer.submit(extend, durable=False).result()

    def next_due(self, now: datetime) -> datetime | None:
        with self._db.read() as conn:
            return work_queue.next_due(conn, now)

    def node_events(self, run_id: str) -> dict[str, Event]:
        with self._db.read() as conn:
            return work_queue.node_events(conn, run_id)

    def queue_depth(self, now: datetime) -> int:
        with self._db.read() as conn:
            return work_queue.queue_depth(conn, now)

    def take_create_slot(
        self, execution_id: str, worker_id: str, canvas: str, node: str, limit: RateLimit,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> Admission:
        take = partial(node_limits.take_slot, execution_id=execution_id, worker_id=worker_id,
                       canvas=canvas, node=node, limit=limit,
                       resolved_config=resolved_config, now=now)
        # Not durable (no fsync of its own on SQLite): a slot lost in a power cut was
        # never used, and the execution, whose lease then expires, asks again.
        return self._db.writer.submit(take, durable=False).result()

    def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        with self._db.read() as conn:
            return node_limits.states(conn, canvas)

    def resume_node(self, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
        def resume(conn: Connection) -> NodeResumed:
            canvas_rows.current_version(conn, canvas)  # NotFound for an unknown canvas
            return node_limits.resume(conn, canvas, node, release, now)

        # Released executions are queued again: wake the workers (NOTIFY elsewhere).
        return self._db.writer.submit(resume, lambda done: done.released > 0).result()

    def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime
    ) -> None:
        begin = partial(guards.begin, canvas=canvas, kind=kind, execution_id=execution_id,
                        run_id=run_id, now=now)
        # Not durable (no fsync of its own, as claim): it must be visible to the
        # receiver before the call goes out, which the commit gives; a machine crash
        # loses at most this hint, for a call that never got its answer either.
        self._db.writer.submit(begin, durable=False).result()

    def forget_create(self, execution_id: str) -> None:
        forget = partial(guards.forget, execution_id=execution_id)
        self._db.writer.submit(forget, durable=False).result()

    def self_created(
        self, canvas: str, kinds: frozenset[str], object_id: str, live_since: datetime
    ) -> SelfCreated:
        with self._db.read() as conn:
            return guards.lookup(conn, canvas, kinds, object_id, live_since)


def left_queued(handoff: Handoff | None, enqueued: int) -> bool:
    """Whether a job that enqueued ``enqueued`` executions left any of them queued for
    a claim (and so must wake workers: NOTIFY on PostgreSQL). Evaluated before the
    commit, when ``handoff`` holds what this attempt leased to the local worker; work
    handed over needs no wakeup, and waking every worker for it cost each a claim
    that found nothing."""
    leased = len(handoff.jobs) if handoff is not None else 0
    return enqueued > leased
