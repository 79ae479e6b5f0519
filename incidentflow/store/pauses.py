"""Paused canvases: deliveries are recorded with the events they carry and start
nothing until a person resumes the canvas and chooses to run or discard them.

The pause itself is one column (``canvases.paused_at``) that the delivery path reads
in the query it already makes for the endpoint's canvas, so pausing costs the hot
path nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store import work_queue
from incidentflow.store.port import NewExecution, Resumed
from incidentflow.store.schema import canvases, deliveries, endpoints

Plan = Callable[[str, Event], list[NewExecution]]

RUN_ON_RESUME = "paused; run when the canvas was resumed"
DISCARDED_ON_RESUME = "paused; discarded when the canvas was resumed"

_HELD = (
    sa.select(deliveries.c.id, deliveries.c.held_events, endpoints.c.node)
    .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
    .where(endpoints.c.canvas == sa.bindparam("b_canvas"),
           deliveries.c.held_events.is_not(None))
    .order_by(deliveries.c.received_at, deliveries.c.id)
)


def held_events(events: list[tuple[Event, list[NewExecution]]]) -> list[dict[str, Any]]:
    """What a delivery to a paused canvas keeps: its events (the first executions are
    worked out again on resume, against the canvas as it is then)."""
    return [event.as_dict() for event, _ in events]


def pause(conn: Connection, name: str, now: datetime) -> datetime:
    head = conn.execute(
        sa.select(canvases.c.paused_at).where(canvases.c.name == name)).first()
    if head is None:
        raise NotFound(f"canvas {name!r} does not exist")
    if head.paused_at is not None:
        return head.paused_at  # already paused: since then, not since now
    conn.execute(canvases.update().where(canvases.c.name == name).values(paused_at=now))
    return now


def resume(conn: Connection, name: str, plan: Plan | None, now: datetime) -> Resumed:
    version = conn.scalar(
        sa.select(canvases.c.current_version).where(canvases.c.name == name))
    if version is None:
        raise NotFound(f"canvas {name!r} does not exist")
    conn.execute(canvases.update().where(canvases.c.name == name).values(paused_at=None))
    run_ids: list[str] = []
    discarded = 0
    for row in conn.execute(_HELD, {"b_canvas": name}).all():
        events = [Event.from_dict(raw) for raw in row.held_events]
        if plan is None:
            discarded += 1
            _settle(conn, row.id, None, DISCARDED_ON_RESUME)
            continue
        started = [work_queue.insert_run(conn, name, int(version), row.node, event,
                                    plan(row.node, event), now) for event in events]
        run_ids += started
        _settle(conn, row.id, started[0] if started else None, RUN_ON_RESUME)
    return Resumed(run_ids, discarded)


def held_count(conn: Connection, name: str) -> int:
    exists = conn.scalar(sa.select(canvases.c.name).where(canvases.c.name == name))
    if exists is None:
        raise NotFound(f"canvas {name!r} does not exist")
    query = sa.select(sa.func.count()).select_from(_HELD.order_by(None).subquery())
    return int(conn.scalar(query, {"b_canvas": name}) or 0)


def _settle(conn: Connection, delivery_id: str, run_id: str | None, reason: str) -> None:
    conn.execute(
        deliveries.update().where(deliveries.c.id == delivery_id)
        .values(held_events=None, run_id=run_id, reason=reason))
