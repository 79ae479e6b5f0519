"""Retention in SQL: delete finished runs (with their executions and events) and old
delivery rows, in small batches so a prune never holds the write lock for long.

Delivery rows double as the dedupe memory (unique endpoint + webhook-id), and
incident.io (Svix) retries a delivery for about a day: whatever the window, delivery
rows younger than ``retention.DEDUPE_KEEP`` (48 h) stay, so a late retry is still a duplicate.
Running runs are never pruned, however old. ``schedule_fires`` rows (one per due time
of a ``schedule`` trigger) go once as old as the runs, except each schedule's latest,
which is what stops that due time from firing twice.

The indexes below make "finished before X" and "received before X" cheap; they are
declared on the shared metadata and created by migration ``0002``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.retention import (  # re-exported: the policy lives there
    BATCH_SIZE,
    DEDUPE_KEEP,
    DEFAULT_RETENTION_DAYS,
    SESSION_KEEP,
    cutoffs,
    prune,
    retention_days,
)
from incidentflow.store.records import Pruned
from incidentflow.store.schema import deliveries, events, executions, runs, schedule_fires

__all__ = ["BATCH_SIZE", "DEDUPE_KEEP", "DEFAULT_RETENTION_DAYS", "SESSION_KEEP", "Pruned",
           "cutoffs", "prune", "prune_deliveries_batch", "prune_runs_batch",
           "prune_schedule_fires_batch", "retention_days"]

sa.Index("ix_runs_finished_at", runs.c.finished_at)
sa.Index("ix_deliveries_received_at", deliveries.c.received_at)


# -- one batch, inside the caller's write transaction --------------------------------------


def prune_runs_batch(conn: Connection, before: datetime, limit: int) -> int:
    ids = list(conn.scalars(
        sa.select(runs.c.id)
        .where(runs.c.state != "running", runs.c.finished_at < before)
        .order_by(runs.c.finished_at)
        .limit(limit)
    ))
    if not ids:
        return 0
    # Children first and explicitly: no reliance on ON DELETE CASCADE being enabled.
    conn.execute(executions.delete().where(executions.c.run_id.in_(ids)))
    conn.execute(events.delete().where(events.c.run_id.in_(ids)))
    conn.execute(runs.delete().where(runs.c.id.in_(ids)))
    return len(ids)


def prune_deliveries_batch(conn: Connection, before: datetime, limit: int) -> int:
    ids = list(conn.scalars(
        # Not the events a paused canvas still holds: they wait for a person's choice.
        sa.select(deliveries.c.id)
        .where(deliveries.c.received_at < before, deliveries.c.held_events.is_(None))
        .limit(limit)
    ))
    if ids:
        conn.execute(deliveries.delete().where(deliveries.c.id.in_(ids)))
    return len(ids)


_later = schedule_fires.alias("later")
_OLD_FIRES = (
    sa.select(schedule_fires.c.canvas, schedule_fires.c.node, schedule_fires.c.due_at)
    .where(
        schedule_fires.c.recorded_at < sa.bindparam("b_before"),
        # Never a schedule's latest due time: the scheduler compares with it, and a
        # second worker's insert of that time must still find the row and lose.
        sa.exists().where(_later.c.canvas == schedule_fires.c.canvas,
                          _later.c.node == schedule_fires.c.node,
                          _later.c.due_at > schedule_fires.c.due_at),
    )
    .order_by(schedule_fires.c.recorded_at)
    .limit(sa.bindparam("b_limit", type_=sa.Integer))
)
_DELETE_FIRE = schedule_fires.delete().where(
    schedule_fires.c.canvas == sa.bindparam("b_canvas"),
    schedule_fires.c.node == sa.bindparam("b_node"),
    schedule_fires.c.due_at == sa.bindparam("b_due"),
)


def prune_schedule_fires_batch(conn: Connection, before: datetime, limit: int) -> int:
    """Up to ``limit`` due-time rows recorded before ``before``, each schedule's latest kept."""
    old = conn.execute(_OLD_FIRES, {"b_before": before, "b_limit": limit}).all()
    if old:
        conn.execute(_DELETE_FIRE, [{"b_canvas": canvas, "b_node": node, "b_due": due}
                                    for canvas, node, due in old])
    return len(old)

