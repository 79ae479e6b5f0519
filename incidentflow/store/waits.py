"""Waiting steps in the database: begin a wait, settle it once, cancel a run.

Functions on an open transaction (the store runs the writes through its writer).

A waiting step's execution (``approval``, and any kind that raises ``WaitBegins``)
ends its lease and goes back to ``queued`` with ``next_attempt_at`` = its timeout
(NULL: none), so it holds no worker slot and the due-time machinery that fires a
``wait`` fires its timeout too (``next_due``, NOTIFY with the time). Its ``waits`` row
says what it waits for. Settling the wait is one conditional UPDATE of that row
(``settled_at IS NULL``): a decision, the timeout and a cancel race for it and exactly
one wins, in any number of processes (SQLite serialises writers; on PostgreSQL a
concurrent UPDATE waits for the row lock, then re-checks its WHERE clause). A decision
also makes the execution due now, so the step runs again and emits it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from incidentflow.store.notify import notify_due
from incidentflow.store.schema import QUEUED, event_waits, executions, runs, waits
from incidentflow.wait_records import Wait, Waiting

TIMED_OUT: dict[str, Any] = {"timeout": True}
CANCELLED: dict[str, Any] = {"cancelled": True}
CANCELLED_MESSAGE = "cancelled by {who} while the run was waiting; it never ran"
OPEN_STATES = ("queued", "running", "held")

# What settling a wait by a decision answered: it was recorded; the wait was already
# settled (or its time had passed); there is no such wait.
Settled = Literal["settled", "closed", "missing"]
Cancelled = Literal["cancelled", "finished", "missing"]

_OPEN = waits.c.settled_at.is_(None)


def begin(
    conn: Connection, execution_id: str, worker_id: str, waiting: Waiting,
    run_id: str, canvas: str, node: str, resolved_config: dict[str, Any] | None,
    now: datetime,
) -> bool:
    """The execution (still leased to ``worker_id``) waits: queued until ``until``,
    its wait recorded (kept as it was when the step waits again). False: the lease
    was lost (or the run cancelled), nothing written."""
    ended = conn.execute(
        executions.update()
        .where(executions.c.id == execution_id, executions.c.lease_owner == worker_id,
               executions.c.state == "running")
        # The attempt it was claimed for is handed back: waiting is not a try.
        .values(state="queued", lease_owner=None, lease_expires_at=None,
                next_attempt_at=waiting.until, attempts=executions.c.attempts - 1,
                resolved_config=resolved_config, error=None, error_details=None)
    ).rowcount
    if ended != 1:
        return False
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(waits).values(
            execution_id=execution_id, run_id=run_id, canvas=canvas, node=node,
            kind=waiting.kind, key=waiting.key, summary=waiting.summary,
            detail=waiting.detail,
            began_at=now, until=waiting.until, settled_at=None, outcome=None,
        ).on_conflict_do_nothing(index_elements=["execution_id"])
    )
    if waiting.until is not None:  # other processes wake for the timeout on time
        notify_due(conn, waiting.until)
    return True


def begin_for(
    conn: Connection, execution_id: str, worker_id: str, waiting: Waiting,
    resolved_config: dict[str, Any] | None, now: datetime,
) -> bool:
    """``begin`` for an execution known by its id alone (its run, canvas and node read
    here); False for an unknown execution."""
    found = conn.execute(
        sa.select(runs.c.id, runs.c.canvas, executions.c.node)
        .join(executions, executions.c.run_id == runs.c.id)
        .where(executions.c.id == execution_id)
    ).first()
    if found is None:
        return False
    return begin(conn, execution_id, worker_id, waiting, found.id, found.canvas, found.node,
                 resolved_config, now)


def take(conn: Connection, execution_id: str, now: datetime) -> Wait | None:
    """The execution's wait, for the step running again; settled as timed out first
    when its time has passed unsettled (then no later decision is accepted)."""
    found = _by_execution(conn, execution_id)
    if found is None or found.settled_at is not None:
        return found
    until = found.waiting.until
    if until is not None and until <= now:
        conn.execute(waits.update()
                     .where(waits.c.execution_id == execution_id, _OPEN)
                     .values(settled_at=until, outcome=TIMED_OUT))
        return _by_execution(conn, execution_id)
    return found


def settle(conn: Connection, execution_id: str, outcome: dict[str, Any],
           now: datetime) -> bool:
    """Settle an open wait whose time has not passed with ``outcome``, and make its
    execution due now. False: already settled, or too late (nothing written)."""
    settled = conn.execute(
        waits.update()
        .where(waits.c.execution_id == execution_id, _OPEN,
               sa.or_(waits.c.until.is_(None), waits.c.until > now))
        .values(settled_at=now, outcome=outcome)
    ).rowcount
    if settled != 1:
        return False
    conn.execute(executions.update()
                 .where(executions.c.id == execution_id, executions.c.state == QUEUED)
                 .values(next_attempt_at=now))
    return True


def cancel_run(conn: Connection, run_id: str, who: str, now: datetime) -> Cancelled:
    """End a running run now: every execution not yet ended is cancelled (a queued one
    never runs; a running one's outcome is refused when its worker reports it), every
    open wait settled as cancelled, the run ``cancelled``."""
    ended = conn.execute(
        runs.update().where(runs.c.id == run_id, runs.c.state == "running")
        .values(state="cancelled", finished_at=now, pending=0)
    ).rowcount
    if ended != 1:
        exists = conn.scalar(sa.select(runs.c.id).where(runs.c.id == run_id))
        return "finished" if exists is not None else "missing"
    conn.execute(
        executions.update()
        .where(executions.c.run_id == run_id, executions.c.state.in_(OPEN_STATES))
        .values(state="cancelled", finished_at=now, lease_owner=None,
                lease_expires_at=None, next_attempt_at=None,
                error=CANCELLED_MESSAGE.format(who=who), error_details=None)
    )
    conn.execute(waits.update().where(waits.c.run_id == run_id, _OPEN)
                 .values(settled_at=now, outcome={**CANCELLED, "by": who}))
    return "cancelled"


def run_state(conn: Connection, run_id: str) -> str | None:
    state: str | None = conn.scalar(sa.select(runs.c.state).where(runs.c.id == run_id))
    return state


def of_run(conn: Connection, run_id: str) -> list[Wait]:
    """Every wait of the run, open or settled, in the order they began."""
    query = (sa.select(waits).where(waits.c.run_id == run_id)
             .order_by(waits.c.began_at, waits.c.execution_id))
    return [_wait(row) for row in conn.execute(query)]


def open_waits(conn: Connection, kind: str | None, limit: int, canvas: str | None = None,
               key: str | None = None) -> list[Wait]:
    """Open waits (of ``kind``; of ``canvas`` and ``key`` too when given), oldest first
    (the partial indexes ``ix_waits_open`` and ``ix_waits_open_key``)."""
    query = sa.select(waits).where(_OPEN)
    if kind is not None:
        query = query.where(waits.c.kind == kind)
    if canvas is not None:
        query = query.where(waits.c.canvas == canvas)
    if key is not None:
        query = query.where(waits.c.key == key)
    query = query.order_by(waits.c.began_at, waits.c.execution_id).limit(limit)
    return [_wait(row) for row in conn.execute(query)]


def waiting_counts(conn: Connection, now: datetime) -> dict[str, int]:
    """How many executions wait, by what for: ``wait`` (queued for a later time by
    the wait step), ``retry`` (a failed attempt backing off), and each open wait kind."""
    counts: Counter[str] = Counter()
    for kind, count in conn.execute(
            sa.select(waits.c.kind, sa.func.count()).where(_OPEN).group_by(waits.c.kind)):
        counts[kind] += int(count)
    later = sa.and_(executions.c.state == QUEUED, executions.c.next_attempt_at > now)
    is_wait_row = sa.exists().where(waits.c.execution_id == executions.c.id, _OPEN)
    # waitForEvent's waits are queued executions with an ``event_waits`` row
    waits_for_event = sa.exists().where(event_waits.c.execution_id == executions.c.id)
    events = conn.scalar(sa.select(sa.func.count()).select_from(executions).where(
        executions.c.state == QUEUED, waits_for_event))
    if events:
        counts["event"] += int(events)
    query = (
        sa.select(executions.c.attempts, sa.func.count())
        .where(later, ~is_wait_row, ~waits_for_event)
        .group_by(executions.c.attempts)
    )
    for attempts, count in conn.execute(query):
        counts["retry" if attempts > 0 else "wait"] += int(count)
    return dict(counts)


def _by_execution(conn: Connection, execution_id: str) -> Wait | None:
    row = conn.execute(sa.select(waits).where(waits.c.execution_id == execution_id)).first()
    return _wait(row) if row is not None else None


def _wait(row: Any) -> Wait:
    return Wait(
        execution_id=row.execution_id, run_id=row.run_id, canvas=row.canvas, node=row.node,
        waiting=Waiting(kind=row.kind, summary=row.summary, until=row.until,
                        detail=dict(row.detail or {}), key=row.key),
        began_at=row.began_at, settled_at=row.settled_at, outcome=row.outcome,
    )
