"""Set-based finishes: every successful execution of a group-commit batch recorded with a
handful of statements, whatever the batch's size.

Per finish, ``work_queue.finish`` runs ~5 statements (end the lease, insert each event and
its downstream executions, settle the run); executing them through SQLAlchemy, not the
database, was most of the writer thread's time. ``finish_many`` does the same for a
whole batch: one locking read of the leases, one ``executemany`` per table, one read
of the runs that ended. Same guarantees as ``work_queue.finish``: an execution whose lease
this worker no longer holds is refused (False) and writes nothing; a run ends when its
last pending execution ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.store import attempts
from incidentflow.store.bulk import BulkStatement
from incidentflow.store.codec import new_id
from incidentflow.store.guards import MARK_CREATED, created_rows
from incidentflow.store.handoff import Handoff, RunContext
from incidentflow.store.notify import notify_due
from incidentflow.store.port import Emitted
from incidentflow.store.schema import events, executions, runs
from incidentflow.store.work_queue import (
    EVENT_COLUMNS,
    EXECUTION_COLUMNS,
    event_row,
    execution_rows,
)


@dataclass
class Finish:
    """One ``SqlStore.finish`` call (its ``handoff`` is reset at each attempt)."""

    execution_id: str
    worker_id: str
    resolved_config: dict[str, Any] | None
    emitted: list[Emitted]
    now: datetime
    handoff: Handoff | None = None
    run: RunContext | None = None


_LEASES = (
    sa.select(executions.c.id, executions.c.run_id, executions.c.node, executions.c.lease_owner,
              executions.c.attempts, executions.c.attempt_started_at)
    .where(executions.c.id.in_(sa.bindparam("ids", expanding=True)),
           executions.c.state == "running")
    .with_for_update()  # PostgreSQL: no other process takes a lease over meanwhile
)
_SUCCEED = BulkStatement(
    executions.update()
    .where(executions.c.id == sa.bindparam("b_id"),
           executions.c.lease_owner == sa.bindparam("b_worker"),
           executions.c.state == "running")
    .values(state="succeeded", lease_owner=None, lease_expires_at=None,
            finished_at=sa.bindparam("v_finished_at"),
            resolved_config=sa.bindparam("v_resolved_config"),
            error=sa.bindparam("v_error"), error_details=sa.bindparam("v_error_details"))
)
_INSERT_EVENTS = BulkStatement(events.insert(), EVENT_COLUMNS)
_INSERT_EXECUTIONS = BulkStatement(executions.insert(), EXECUTION_COLUMNS)
_failed_in_run = (
    sa.select(executions.c.id)
    .where(executions.c.run_id == runs.c.id, executions.c.state == sa.literal_column("'failed'"))
    .exists()
)
_ends = sa.and_(runs.c.state == "running", runs.c.pending + sa.bindparam("b_delta") <= 0)
# One statement per run whose pending count changed: add the delta and, when nothing is
# left pending, end the run (failed if any of its executions failed). SET expressions
# see the row as it was, so ``pending + delta`` is the new count in each of them.
_SETTLE_RUN = (
    runs.update()
    .where(runs.c.id == sa.bindparam("b_run"))
    .values(
        pending=runs.c.pending + sa.bindparam("b_delta"),
        state=sa.case(
            (_ends, sa.case((_failed_in_run, "failed"), else_="succeeded")),
            else_=runs.c.state,
        ),
        finished_at=sa.case((_ends, sa.bindparam("v_finished_at")), else_=runs.c.finished_at),
    )
)


def finish_many(conn: Connection, finishes: list[Finish]) -> list[bool]:
    """Record ``finishes`` (in order) in the open transaction; True for each recorded."""
    for item in finishes:
        if item.handoff is not None:
            item.handoff.reset()
    leases = _held_leases(conn, sorted({item.execution_id for item in finishes}))
    done: list[bool] = []
    ended, new_events, new_executions = [], [], []
    after_retries: list[dict[str, Any]] = []  # successes after failed attempts (history)
    created: list[tuple[str, str, datetime]] = []  # create actions' objects (store.guards)
    settles: dict[str, tuple[int, datetime]] = {}  # run -> (pending delta, latest now)
    earliest_wait: datetime | None = None  # of the executions enqueued for later
    for item in finishes:
        lease = leases.get(item.execution_id)
        if lease is None or lease.lease_owner != item.worker_id:
            done.append(False)
            continue
        del leases[item.execution_id]  # a second finish of it in this batch is refused
        run_id, node = lease.run_id, lease.node
        if lease.attempts > 1:
            after_retries.append(attempts.attempt_row(
                item.execution_id, lease.attempts, run_id, attempts.SUCCEEDED,
                lease.attempt_started_at, item.now))
        ended.append({
            "b_id": item.execution_id, "b_worker": item.worker_id,
            "v_finished_at": item.now, "v_resolved_config": item.resolved_config,
            "v_error": None, "v_error_details": None,
        })
        enqueued, reported = 0, False
        for emitted in item.emitted:
            event_id = new_id()
            new_events.append(event_row(event_id, run_id, node, item.execution_id,
                                        emitted.channel, emitted.event, item.now))
            new_executions += execution_rows(run_id, event_id, emitted.downstream, item.now,
                                             item.handoff, item.run)
            enqueued += len(emitted.downstream)
            if emitted.downstream:  # one emission's executions share its not_before
                earliest_wait = _earlier(earliest_wait, emitted.downstream[0].not_before)
            if emitted.created_id is not None and not reported:
                reported = True  # one object per create execution (its row's key)
                created.append((item.execution_id, emitted.created_id, item.now))
        delta, _ = settles.get(run_id, (0, item.now))
        settles[run_id] = (delta + enqueued - 1, item.now)
        done.append(True)
    if ended:
        _SUCCEED.execute(conn, ended)
    if new_events:
        _INSERT_EVENTS.execute(conn, new_events)
    if new_executions:
        _INSERT_EXECUTIONS.execute(conn, new_executions)
    if after_retries:  # only successes after a failed attempt pay for this
        attempts.INSERT_MANY.execute(conn, after_retries)
    if created:  # only create actions' finishes pay for this
        conn.execute(MARK_CREATED, created_rows(created))
    if earliest_wait is not None:  # only waits pay for this
        notify_due(conn, earliest_wait)
    _settle_runs(conn, settles)
    return done


def _earlier(known: datetime | None, when: datetime | None) -> datetime | None:
    if when is None:
        return known
    return when if known is None or when < known else known


def _held_leases(conn: Connection, ids: list[str]) -> dict[str, Any]:
    """Running executions among ``ids``: id -> row (run_id, node, lease_owner, attempts,
    attempt_started_at)."""
    return {row.id: row for row in conn.execute(_LEASES, {"ids": ids})}


def _settle_runs(conn: Connection, settles: dict[str, tuple[int, datetime]]) -> None:
    """Apply each run's pending delta; end the runs with none pending. A run whose
    delta is 0 (each finish enqueued one more) cannot have ended: not touched. Last in
    the transaction and in id order: the row locks serialize a run's finishes across
    processes, so they are held briefly and taken in one order."""
    changed = sorted(run for run, (delta, _) in settles.items() if delta != 0)
    if changed:
        conn.execute(_SETTLE_RUN, [
            {"b_run": run, "b_delta": settles[run][0], "v_finished_at": settles[run][1]}
            for run in changed
        ])
