"""``SqlHotWrites``: the hot path's jobs for the group-commit writer (``store.writer``),
built once for both faces of the SQL store: the synchronous port waits for their
commit (``writer.write``), the async face (``store.sql_async``) has the writer answer
on its event loop (``write_then`` and ``store.loop_bridge``), with no thread per call.

Concurrent hot-path calls share one transaction and one fsync, and each answers only
after that commit; deliveries and finishes of one batch are recorded set-based
(``store.accepts``, ``store.finishes``).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store import accepts, guards, node_limits, work_queue
from incidentflow.store.accepts import Accept, accept_many, accept_one
from incidentflow.store.finishes import Finish, finish_many
from incidentflow.store.handoff import Handoff, RunContext
from incidentflow.store.records import (
    Admission,
    ClaimedExecution,
    DeliveryResult,
    Emitted,
    NewExecution,
)
from incidentflow.store.sql_base import SqlBase
from incidentflow.store.writer import Then, Write


class _Accepts:
    """The writer's group of ``accept_delivery`` jobs (``store.writer.Group``)."""

    def run_many(self, conn: Connection, payloads: list[Accept]) -> list[DeliveryResult]:
        return accept_many(conn, payloads)


class _Finishes:
    """The writer's group of ``finish`` jobs (``store.writer.Group``)."""

    def run_many(self, conn: Connection, payloads: list[Finish]) -> list[bool]:
        return finish_many(conn, payloads)


_ACCEPTS, _FINISHES = _Accepts(), _Finishes()


class SqlHotWrites(SqlBase):
    def write_then(self, write: Write[Any], then: Then) -> None:
        """``write`` in the next batch; ``then(result, error)`` from the writer thread
        once it is committed (or failed)."""
        self._db.writer.write_then(write, then)

    def accept_write(
        self, endpoint_id: str, webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]], now: datetime, reason: str = "",
    ) -> Write[DeliveryResult]:
        handoff = self._handoff(now)
        item = Accept(endpoint_id, webhook_id, events, now, handoff, reason)
        enqueued = sum(len(first) for _, first in events)
        return Write(
            # Alone (when its batch is redone): the same path with one item.
            partial(accept_one, item=item, concurrent_inserts=not self._db.is_sqlite),
            lambda result: result.outcome == "accepted" and left_queued(handoff, enqueued),
            after=handoff.settle if handoff else None, group=_ACCEPTS, payload=item,
        )

    def reject_write(self, endpoint_id: str, reason: str, now: datetime,
                     code: str) -> Write[None]:
        # Through the writer: a flood of bad signatures is batched too.
        return Write(partial(accepts.reject, endpoint_id=endpoint_id, reason=reason, now=now,
                             code=code))

    def claim_write(self, worker_id: str, now: datetime, lease_seconds: float,
                    limit: int) -> Write[list[ClaimedExecution]]:
        """Not durable: a lost claim is a lease that never existed (``store.database``)."""
        return Write(partial(work_queue.claim, worker_id=worker_id, now=now,
                             lease_seconds=lease_seconds, limit=limit), durable=False)

    def finish_write(
        self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
        emitted: list[Emitted], now: datetime, origin: ClaimedExecution | None,
    ) -> Write[bool]:
        """``origin`` (the execution as claimed) lets its downstream executions be
        handed to the local worker (``store.handoff``) without another query."""
        enqueued = sum(len(item.downstream) for item in emitted)
        handoff = self._handoff(now) if origin is not None and enqueued else None
        run = None
        if origin is not None:
            run = RunContext(origin.run_id, origin.canvas, origin.canvas_version, origin.root)
        item = Finish(execution_id, worker_id, resolved_config, emitted, now, handoff, run)

        def finish(conn: Connection) -> bool:  # alone, when its batch is redone
            return finish_many(conn, [item])[0]

        return Write(finish, lambda done: done and left_queued(handoff, enqueued),
                     after=handoff.settle if handoff else None, group=_FINISHES, payload=item)

    def retry_later_write(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, next_attempt_at: datetime, now: datetime,
    ) -> Write[bool]:
        return Write(partial(work_queue.retry_later, execution_id=execution_id,
                             worker_id=worker_id, error=error, details=details,
                             resolved_config=resolved_config,
                             next_attempt_at=next_attempt_at, now=now))

    def fail_write(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> Write[bool]:
        return Write(partial(work_queue.fail, execution_id=execution_id, worker_id=worker_id,
                             error=error, details=details, resolved_config=resolved_config,
                             now=now))

    def extend_leases_write(self, worker_id: str, execution_ids: list[str], now: datetime,
                            lease_seconds: float) -> Write[int]:
        return Write(partial(work_queue.extend_leases, worker_id=worker_id, ids=execution_ids,
                             now=now, lease_seconds=lease_seconds), durable=False)

    def take_create_slot_write(
        self, execution_id: str, worker_id: str, canvas: str, node: str, limit: RateLimit,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> Write[Admission]:
        # Not durable (no fsync of its own on SQLite): a slot lost in a power cut was
        # never used, and the execution, whose lease then expires, asks again.
        return Write(partial(node_limits.take_slot, execution_id=execution_id,
                             worker_id=worker_id, canvas=canvas, node=node, limit=limit,
                             resolved_config=resolved_config, now=now), durable=False)

    def begin_create_write(self, canvas: str, kind: str, execution_id: str, run_id: str,
                           now: datetime) -> Write[None]:
        # Not durable (no fsync of its own, as claim): it must be visible to the
        # receiver before the call goes out, which the commit gives; a machine crash
        # loses at most this hint, for a call that never got its answer either.
        return Write(partial(guards.begin, canvas=canvas, kind=kind, execution_id=execution_id,
                             run_id=run_id, now=now), durable=False)

    def forget_create_write(self, execution_id: str) -> Write[None]:
        return Write(partial(guards.forget, execution_id=execution_id), durable=False)


def left_queued(handoff: Handoff | None, enqueued: int) -> bool:
    """Whether a job that enqueued ``enqueued`` executions left any of them queued for
    a claim (and so must wake workers: NOTIFY on PostgreSQL). Evaluated before the
    commit, when ``handoff`` holds what this attempt leased to the local worker; work
    handed over needs no wakeup, and waking every worker for it cost each a claim
    that found nothing."""
    leased = len(handoff.jobs) if handoff is not None else 0
    return enqueued > leased
