"""Schedule triggers in the store: which schedules exist (kept in step with each
canvas's current version), and a due time fired or skipped exactly once.

A fire is one transaction: insert the ``schedule_fires`` row of (canvas, node, due
time), start the run, note the node's last fire. The row's primary key makes a second
worker's insert lose (``ON CONFLICT DO NOTHING``: it sees no row inserted and starts
nothing), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from incidentflow.canvas import Node
from incidentflow.store.records import ScheduleRecord
from incidentflow.store.schema import canvases, schedule_fires, schedules

FIRED, SKIPPED = "fired", "skipped"
SCHEDULE_TYPE = "schedule"  # the node type (components.schedule)


def sync(conn: Connection, canvas: str, nodes: Iterable[Node], now: datetime) -> None:
    """Make ``schedules`` match the schedule nodes of ``canvas``'s new version. A node
    whose cron or zone changed starts afresh from ``now`` (no catch-up of times of the
    old expression); its last fire is kept for the node view."""
    existing = {row.node: row for row in conn.execute(
        sa.select(schedules).where(schedules.c.canvas == canvas))}
    wanted = {node.name: node for node in nodes}
    gone = [name for name in existing if name not in wanted]
    if gone:
        conn.execute(schedules.delete().where(schedules.c.canvas == canvas,
                                              schedules.c.node.in_(gone)))
    for name, node in wanted.items():
        config = node.configuration
        values = {"cron": str(config["cron"]), "timezone": str(config.get("timezone", "UTC")),
                  "catch_up_minutes": int(config.get("catchUpMinutes", 0))}
        row = existing.get(name)
        if row is None:
            conn.execute(schedules.insert().values(canvas=canvas, node=name, since=now,
                                                   **values))
            continue
        if (row.cron, row.timezone) != (values["cron"], values["timezone"]):
            values["since"] = now  # type: ignore[assignment]
        conn.execute(schedules.update().where(schedules.c.canvas == canvas,
                                              schedules.c.node == name).values(**values))


_ACTIVE = (
    sa.select(schedules)
    .join(canvases, canvases.c.name == schedules.c.canvas)
    .where(canvases.c.paused_at.is_(None))  # a paused canvas's schedules do not fire
    .order_by(schedules.c.canvas, schedules.c.node)
)


def active(conn: Connection) -> list[ScheduleRecord]:
    return [_record(row) for row in conn.execute(_ACTIVE)]


def of_canvas(conn: Connection, canvas: str) -> list[ScheduleRecord]:
    query = sa.select(schedules).where(schedules.c.canvas == canvas).order_by(schedules.c.node)
    return [_record(row) for row in conn.execute(query)]


def claim_due(conn: Connection, canvas: str, node: str, due: datetime, outcome: str,
              now: datetime) -> bool:
    """Insert the row of this due time; False if another worker already did."""
    values = {"canvas": canvas, "node": node, "due_at": due, "outcome": outcome,
              "run_id": None, "recorded_at": now}
    insert = (postgresql.insert(schedule_fires) if conn.dialect.name == "postgresql"
              else sqlite.insert(schedule_fires))
    inserted = insert.values(**values).on_conflict_do_nothing().returning(
        schedule_fires.c.due_at)
    return conn.execute(inserted).first() is not None  # rowcount may be -1 here


def note(conn: Connection, canvas: str, node: str, due: datetime, outcome: str,
         run_id: str | None, now: datetime) -> None:
    """The node's last fire or skip (node view), and the run it started."""
    conn.execute(schedules.update()
                 .where(schedules.c.canvas == canvas, schedules.c.node == node)
                 .values(last_due_at=due, last_outcome=outcome, last_run_id=run_id,
                         last_at=now))
    if run_id is not None:
        conn.execute(schedule_fires.update()
                     .where(schedule_fires.c.canvas == canvas, schedule_fires.c.node == node,
                            schedule_fires.c.due_at == due)
                     .values(run_id=run_id))


def _record(row: sa.Row) -> ScheduleRecord:  # type: ignore[type-arg]
    return ScheduleRecord(row.canvas, row.node, row.cron, row.timezone, row.catch_up_minutes,
                          row.since, row.last_due_at, row.last_outcome, row.last_run_id,
                          row.last_at)
