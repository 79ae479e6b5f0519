"""The runs of a canvas at scale: filtered (state, node, time), paged by a cursor with
the total that match, and counted per hour for the canvas's 24-hour chart.

Paging is by run id (ids sort in creation order, ``store.codec.new_id``): a page is
the ``limit`` runs older than the cursor, so pages stay stable while new runs arrive.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.store.history import run_of
from incidentflow.store.port import RunRecord
from incidentflow.store.records import Activity, RunFilter, RunPage  # noqa: F401 (re-exported)
from incidentflow.store.schema import deliveries, endpoints, events, executions, runs

HOUR = timedelta(hours=1)


def _conditions(where: RunFilter) -> list[Any]:
    found: list[Any] = [runs.c.canvas == where.canvas]
    if where.states:
        found.append(runs.c.state.in_(where.states))
    if where.node:
        found.append(sa.exists().where(executions.c.run_id == runs.c.id,
                                       executions.c.node == where.node))
    if where.since is not None:
        found.append(runs.c.created_at >= where.since)
    if where.until is not None:
        found.append(runs.c.created_at < where.until)
    if where.ids:
        found.append(runs.c.id.in_(where.ids))
    return found


def find_runs(conn: Connection, where: RunFilter, limit: int, before: str | None) -> RunPage:
    conditions = _conditions(where)
    total = conn.scalar(sa.select(sa.func.count()).select_from(runs).where(*conditions)) or 0
    if before:
        conditions.append(runs.c.id < before)
    query = (
        sa.select(runs, events.c.type, events.c.data, events.c.timestamp)
        .join(events, events.c.id == runs.c.root_event_id)
        .where(*conditions)
        .order_by(runs.c.id.desc())
        .limit(limit + 1)  # one more says whether there is a next page
    )
    found = [run_of(row) for row in conn.execute(query)]
    more = len(found) > limit
    found = found[:limit]
    return RunPage(found, int(total), found[-1].id if more and found else None)


def run_ids(conn: Connection, where: RunFilter, limit: int) -> tuple[list[str], int]:
    conditions = _conditions(where)
    total = conn.scalar(sa.select(sa.func.count()).select_from(runs).where(*conditions)) or 0
    ids = conn.scalars(sa.select(runs.c.id).where(*conditions).order_by(runs.c.id).limit(limit))
    return list(ids), int(total)


def replay_batch(conn: Connection, batch: str) -> list[RunRecord]:
    query = (
        sa.select(runs, events.c.type, events.c.data, events.c.timestamp)
        .join(events, events.c.id == runs.c.root_event_id)
        .where(runs.c.replay_batch == batch)
        .order_by(runs.c.id)
    )
    return [run_of(row) for row in conn.execute(query)]


# -- the 24-hour chart ---------------------------------------------------------------

def _hour_of(column: Any, dialect: str) -> Any:
    """The hour a time falls in, as whole hours since 1970 (grouped in the database:
    a busy day is too many rows to fetch)."""
    seconds: Any = (sa.cast(sa.func.strftime("%s", column), sa.Integer) if dialect == "sqlite"
                    else sa.func.extract("epoch", column))
    return sa.cast(sa.func.floor(seconds / 3600), sa.Integer)


def canvas_activity(conn: Connection, canvas: str, since: datetime, now: datetime) -> Activity:
    first = int(since.timestamp() // 3600)
    count = int(now.timestamp() // 3600) - first + 1
    hours = [datetime.fromtimestamp((first + i) * 3600, tz=since.tzinfo) for i in range(count)]
    dialect = conn.dialect.name
    delivery_hour = _hour_of(deliveries.c.received_at, dialect).label("hour")
    delivered = conn.execute(
        sa.select(delivery_hour, deliveries.c.outcome, sa.func.count())
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .where(endpoints.c.canvas == canvas, deliveries.c.received_at >= since)
        .group_by(delivery_hour, deliveries.c.outcome)
    )
    run_hour = _hour_of(runs.c.created_at, dialect).label("hour")
    started = conn.execute(
        sa.select(run_hour, runs.c.state, sa.func.count())
        .where(runs.c.canvas == canvas, runs.c.created_at >= since)
        .group_by(run_hour, runs.c.state)
    )
    return Activity(hours, _series(delivered, first, count), _series(started, first, count))


def _series(rows: Any, first: int, count: int) -> dict[str, list[int]]:
    series: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    for hour, key, number in rows:
        index = int(hour) - first
        if 0 <= index < count:
            series[key][index] += int(number)
    return dict(series)
