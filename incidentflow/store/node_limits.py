"""The create rate limit in the database: slots, trips, held executions, resuming.

Functions on an open write transaction (the store runs them through its writer).

A node's window is fixed: it starts with the first slot taken after the previous
window ended and lasts ``per`` seconds; at most ``max`` slots are taken in it. The
slot is taken by one conditional UPDATE of the node's row, so the decision is atomic
wherever the workers run: SQLite serialises writers (``BEGIN IMMEDIATE``, across
processes too); on PostgreSQL the row lock makes a concurrent UPDATE wait and then
re-check its WHERE clause against the committed row. The first execution refused
trips the node (``tripped_at``), which then holds everything until resumed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from incidentflow.rate_limit import RateLimit
from incidentflow.store.port import Admission, NodeLimitState, NodeResumed
from incidentflow.store.schema import executions, node_limits, runs
from incidentflow.store.work_queue import settle_run

HELD = "held"
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)
DISCARDED = "discarded"

_row = sa.and_(node_limits.c.canvas == sa.bindparam("b_canvas"),
               node_limits.c.node == sa.bindparam("b_node"))
_window_over = node_limits.c.window_start <= sa.bindparam("b_cutoff")
# A slot: a new window if the last one is over, else one more in this one if any is left.
_TAKE_SLOT = (
    node_limits.update()
    .where(_row, node_limits.c.tripped_at.is_(None),
           sa.or_(_window_over, node_limits.c.window_count < sa.bindparam("b_max")))
    .values(
        window_start=sa.case((_window_over, sa.bindparam("b_now")),
                             else_=node_limits.c.window_start),
        window_count=sa.case((_window_over, 1), else_=node_limits.c.window_count + 1),
    )
)
_TRIP = (
    node_limits.update()
    .where(_row, node_limits.c.tripped_at.is_(None))
    .values(tripped_at=sa.bindparam("b_now"))
)
_LEASED = sa.and_(executions.c.id == sa.bindparam("b_id"),
                  executions.c.lease_owner == sa.bindparam("b_worker"),
                  executions.c.state == "running")
_LEASE = sa.select(executions.c.admitted_at).where(_LEASED)
_ADMIT = (executions.update().where(executions.c.id == sa.bindparam("b_id"))
          .values(admitted_at=sa.bindparam("b_now")))


def _new_row(dialect: Any) -> Any:
    return dialect.insert(node_limits).values(
        canvas=sa.bindparam("b_canvas"), node=sa.bindparam("b_node"),
        window_start=_LONG_AGO, window_count=0, tripped_at=None,
    ).on_conflict_do_nothing(index_elements=["canvas", "node"])


# By "is it PostgreSQL?" (the stores are SQLite and PostgreSQL).
_NEW_ROW = {False: _new_row(sqlite), True: _new_row(postgresql)}


def take_slot(
    conn: Connection, execution_id: str, worker_id: str, canvas: str, node: str,
    limit: RateLimit, resolved_config: dict[str, Any] | None, now: datetime,
) -> Admission:
    """See ``Store.take_create_slot``. Every statement is built once (a storm asks this
    for each alert): the lease check, then the slot, which needs the node's row created
    only the first time (a refused slot asks again after making sure the row exists)."""
    leased = conn.execute(_LEASE, {"b_id": execution_id, "b_worker": worker_id}).first()
    if leased is None:  # the lease was lost: its new holder decides
        return Admission(admitted=False)
    if leased.admitted_at is not None:  # a retry, or released by a person
        return Admission(admitted=True)
    params = {"b_canvas": canvas, "b_node": node, "b_now": now, "b_max": limit.max,
              "b_cutoff": now - timedelta(seconds=limit.per)}
    taken = conn.execute(_TAKE_SLOT, params).rowcount == 1
    if not taken:  # no row yet, or full, or tripped: ask again once the row exists
        _ensure_row(conn, canvas, node)
        taken = conn.execute(_TAKE_SLOT, params).rowcount == 1
    if taken:
        conn.execute(_ADMIT, {"b_id": execution_id, "b_now": now})
        return Admission(admitted=True)
    tripped_now = conn.execute(_TRIP, params).rowcount == 1
    _hold(conn, execution_id, worker_id, node, limit, resolved_config)
    return Admission(admitted=False, held=True, tripped_now=tripped_now)


def _ensure_row(conn: Connection, canvas: str, node: str) -> None:
    """The node's row, created on its first slot (concurrent creators: one wins, the
    others do nothing; on PostgreSQL they wait for the winner's commit, so the slot
    asked for again sees its row). A window that starts "long ago" is over: the first
    slot opens a new one."""
    conn.execute(_NEW_ROW[conn.dialect.name == "postgresql"],
                 {"b_canvas": canvas, "b_node": node})


def _hold(
    conn: Connection, execution_id: str, worker_id: str, node: str, limit: RateLimit,
    resolved_config: dict[str, Any] | None,
) -> None:
    # The attempt it was claimed for is handed back: it never ran.
    conn.execute(
        executions.update().where(_LEASED).values(
            state=HELD, lease_owner=None, lease_expires_at=None, next_attempt_at=None,
            attempts=executions.c.attempts - 1, resolved_config=resolved_config,
            error=held_message(node, limit), error_details=None,
        ),
        {"b_id": execution_id, "b_worker": worker_id},
    )


def held_message(node: str, limit: RateLimit) -> str:
    return (f"node {node!r} went past its rate limit ({limit.describe()}) and tripped; "
            "this execution is held until a person resumes the node (release or discard)")


DISCARD_MESSAGE = ("discarded by a person after the node's rate limit tripped; "
                   "it never ran")


def _held_of(canvas: str, node: str) -> Any:
    return sa.and_(
        executions.c.state == HELD, executions.c.node == node,
        executions.c.run_id.in_(sa.select(runs.c.id).where(runs.c.canvas == canvas)),
    )


def resume(conn: Connection, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
    """See ``Store.resume_node``."""
    conn.execute(
        node_limits.update()
        .where(node_limits.c.canvas == canvas, node_limits.c.node == node)
        .values(tripped_at=None, window_start=now, window_count=0)
    )
    held = _held_of(canvas, node)
    if release:
        released = conn.execute(executions.update().where(held).values(
            state="queued", next_attempt_at=now, admitted_at=now, error=None,
        )).rowcount
        return NodeResumed(released=released)
    per_run = conn.execute(
        sa.select(executions.c.run_id, sa.func.count()).where(held)
        .group_by(executions.c.run_id).order_by(executions.c.run_id)
    ).all()
    conn.execute(executions.update().where(held).values(
        state=DISCARDED, finished_at=now, error=DISCARD_MESSAGE,
    ))
    for run_id, count in per_run:  # run order: two resumes lock runs in the same order
        settle_run(conn, run_id, 1 - count, now)
    return NodeResumed(discarded=sum(count for _, count in per_run))


def states(conn: Connection, canvas: str | None = None) -> list[NodeLimitState]:
    """Every node row (of ``canvas``, or all), with its held count; nodes that hold
    executions without a row (none in practice) are listed too."""
    rows = sa.select(node_limits)
    held = (
        sa.select(runs.c.canvas, executions.c.node, sa.func.count().label("held"))
        .join(runs, runs.c.id == executions.c.run_id)
        .where(executions.c.state == HELD)
        .group_by(runs.c.canvas, executions.c.node)
    )
    if canvas is not None:
        rows = rows.where(node_limits.c.canvas == canvas)
        held = held.where(runs.c.canvas == canvas)
    counts = {(r.canvas, r.node): int(r.held) for r in conn.execute(held)}
    found = []
    for row in conn.execute(rows.order_by(node_limits.c.canvas, node_limits.c.node)):
        started = row.window_start if row.window_count else None
        found.append(NodeLimitState(row.canvas, row.node, started, row.window_count,
                                    row.tripped_at, counts.pop((row.canvas, row.node), 0)))
    found += [NodeLimitState(c, n, None, 0, None, held_count)
              for (c, n), held_count in sorted(counts.items())]
    return found
