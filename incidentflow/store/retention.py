"""Retention: delete finished runs (with their executions and events) and old
delivery rows, in small batches so a prune never holds the write lock for long.

Delivery rows double as the dedupe memory (unique endpoint + webhook-id), and
incident.io (Svix) retries a delivery for about a day: whatever the window, delivery
rows younger than ``DEDUPE_KEEP`` (48 h) stay, so a late retry is still a duplicate.
Running runs are never pruned, however old. ``schedule_fires`` rows (one per due time
of a ``schedule`` trigger) go once as old as the runs, except each schedule's latest,
which is what stops that due time from firing twice.

The indexes below make "finished before X" and "received before X" cheap; they are
declared on the shared metadata and created by migration ``0002``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import ConfigurationError
from incidentflow.store.schema import deliveries, events, executions, runs, schedule_fires

DEFAULT_RETENTION_DAYS = 30
DEDUPE_KEEP = timedelta(hours=48)
# Browser sessions last 12 h; their rows are pruned once surely expired.
SESSION_KEEP = timedelta(hours=48)
BATCH_SIZE = 500

sa.Index("ix_runs_finished_at", runs.c.finished_at)
sa.Index("ix_deliveries_received_at", deliveries.c.received_at)


@dataclass(frozen=True)
class Pruned:
    runs: int = 0
    deliveries: int = 0
    sessions: int = 0  # expired browser-session rows (see store/tokens.py)
    created_objects: int = 0  # self-trigger guard records as old as the runs (store/guards.py)
    schedule_fires: int = 0  # due times of schedules, but each schedule's latest

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(self.runs + other.runs, self.deliveries + other.deliveries,
                      self.sessions + other.sessions,
                      self.created_objects + other.created_objects,
                      self.schedule_fires + other.schedule_fires)

    @property
    def total(self) -> int:
        return (self.runs + self.deliveries + self.sessions + self.created_objects
                + self.schedule_fires)

    def full(self, batch_size: int) -> bool:
        """Did any part of this batch hit the limit (so more may be left)?"""
        return max(self.runs, self.deliveries, self.sessions,
                   self.created_objects, self.schedule_fires) >= batch_size


def retention_days(env: Mapping[str, str] | None = None) -> int:
    """``INCIDENTFLOW_RETENTION_DAYS`` (default 30; 0 keeps everything forever)."""
    env = os.environ if env is None else env
    raw = (env.get("INCIDENTFLOW_RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)).strip()
    try:
        days = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"INCIDENTFLOW_RETENTION_DAYS must be a whole number of days, got {raw!r}"
        ) from None
    if days < 0:
        raise ConfigurationError("INCIDENTFLOW_RETENTION_DAYS must be 0 (keep) or more")
    return days


def cutoffs(now: datetime, days: float) -> tuple[datetime, datetime]:
    """(runs finished before, deliveries received before) for a window of ``days``."""
    runs_before = now - timedelta(days=days)
    return runs_before, min(runs_before, now - DEDUPE_KEEP)


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


def prune(store: Any, now: datetime, days: float, batch_size: int = BATCH_SIZE,
          between: Callable[[], None] | None = None) -> Pruned:
    """Delete everything the window allows, one short transaction per batch.
    ``days`` 0 keeps everything. ``between`` runs after each batch (e.g. a pause)."""
    if days <= 0:
        return Pruned()
    runs_before, deliveries_before = cutoffs(now, days)
    total = Pruned()
    while True:
        batch: Pruned = store.prune_batch(runs_before, deliveries_before, batch_size,
                                          now - SESSION_KEEP)
        total += batch
        if not batch.full(batch_size):
            return total
        if between is not None:
            between()
