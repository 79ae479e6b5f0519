"""The ``waitForEvent`` step in the store: waits, the events offered to them, parking.

Functions on an open transaction (the store runs them through its writer or a read).

A waiting execution is an ordinary queued execution whose ``next_attempt_at`` is its
timeout, plus an ``event_waits`` row saying what it waits for. So it holds no worker
slot, survives restarts, is due at its timeout through the usual due-time machinery,
and is taken by one worker at a time through the usual lease.

``offer`` runs in the transaction that inserts a run (a delivery, a manual start, a
schedule): the run's trigger event is looked up by key (``event_match``), copied to
each candidate wait's ``event_wait_offers`` and the candidate's execution is made due
now. Every candidate execution row is locked, waiting or running: a worker parking
that execution again (``park``) either sees the offer or is seen by it, so an offer is
never left unread until the timeout.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from incidentflow.event_match import KEYLESS, event_key
from incidentflow.events import Event
from incidentflow.store.codec import new_id
from incidentflow.store.notify import notify_due, notify_workers
from incidentflow.store.records import EventOffer, EventWait  # noqa: F401 (re-exported)
from incidentflow.store.schema import (
    event_wait_offers,
    event_wait_paths,
    event_waits,
    executions,
)

log = logging.getLogger(__name__)
# Keyless waits (no equality to index on) of one canvas and event type offered one event:
# at most this many, oldest first; more are logged (their match should gain an equality).
KEYLESS_LIMIT = 1000
OPEN_STATES = ("queued", "running")  # a cancelled or finished execution waits no more


# -- the worker's side ---------------------------------------------------------------------

def wait_of(conn: Connection, execution_id: str) -> EventWait | None:
    row = conn.execute(sa.select(event_waits).where(
        event_waits.c.execution_id == execution_id)).first()
    return None if row is None else _wait(row)


def offers_of(conn: Connection, execution_id: str, limit: int) -> list[EventOffer]:
    rows = conn.execute(
        sa.select(event_wait_offers)
        .where(event_wait_offers.c.execution_id == execution_id)
        .order_by(event_wait_offers.c.id)
        .limit(limit)
    )
    return [EventOffer(row.id, Event(row.type, row.data, row.timestamp), row.arrived_at)
            for row in rows]


def park(
    conn: Connection, wait: EventWait, worker_id: str, seen: list[str],
    resolved_config: dict[str, Any] | None, now: datetime,
) -> datetime | None:
    """Queue the leased execution of ``wait`` again until its timeout, recording the wait
    on its first park, dropping the offers evaluated (``seen``). Returns when it is due
    again (now, if offers are left to evaluate), or None if the lease was lost."""
    # First: the execution row, locked until commit (see the module's note on ``offer``).
    parked = conn.execute(
        executions.update()
        .where(executions.c.id == wait.execution_id, executions.c.lease_owner == worker_id,
               executions.c.state == "running")
        .values(state="queued", lease_owner=None, lease_expires_at=None,
                next_attempt_at=wait.timeout_at, attempts=executions.c.attempts - 1,
                resolved_config=resolved_config, error=None, error_details=None)
    ).rowcount
    if not parked:
        return None
    if seen:
        conn.execute(event_wait_offers.delete().where(event_wait_offers.c.id.in_(seen)))
    if wait_of(conn, wait.execution_id) is None:
        _insert(conn, wait)
    due = wait.timeout_at
    left = conn.execute(sa.select(event_wait_offers.c.id).where(
        event_wait_offers.c.execution_id == wait.execution_id).limit(1)).first()
    if left is not None:
        due = now
        conn.execute(executions.update().where(executions.c.id == wait.execution_id)
                     .values(next_attempt_at=now))
    notify_due(conn, due)  # workers of other processes sleep no longer than that
    return due


def end(conn: Connection, execution_id: str) -> None:
    """The wait is over (matched or timed out, and recorded): forget it and its offers."""
    conn.execute(event_waits.delete().where(event_waits.c.execution_id == execution_id))


def of_run(conn: Connection, run_id: str) -> list[EventWait]:
    """The open waits of a run (what it is waiting for, and until when)."""
    rows = conn.execute(
        sa.select(event_waits)
        .join(executions, executions.c.id == event_waits.c.execution_id)
        .where(event_waits.c.run_id == run_id, executions.c.state.in_(OPEN_STATES))
        .order_by(event_waits.c.began_at, event_waits.c.execution_id)
    )
    return [_wait(row) for row in rows]


def _insert(conn: Connection, wait: EventWait) -> None:
    conn.execute(event_waits.insert().values(
        execution_id=wait.execution_id, run_id=wait.run_id, canvas=wait.canvas,
        node=wait.node, event_type=wait.event_type, match=wait.match,
        match_path=wait.match_path, match_key=wait.match_key, began_at=wait.began_at,
        timeout_at=wait.timeout_at))
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(event_wait_paths).values(
        canvas=wait.canvas, event_type=wait.event_type, match_path=wait.match_path,
    ).on_conflict_do_nothing())


def _wait(row: Any) -> EventWait:
    return EventWait(row.execution_id, row.run_id, row.canvas, row.node, row.event_type,
                     row.match, row.match_path, row.match_key, row.began_at, row.timeout_at)


# -- an event arrives -----------------------------------------------------------------------

_PATHS = sa.select(event_wait_paths).where(
    event_wait_paths.c.canvas.in_(sa.bindparam("canvases", expanding=True)))
_open = executions.c.state.in_(OPEN_STATES)
_KEYED = (
    sa.select(event_waits.c.execution_id)
    .join(executions, executions.c.id == event_waits.c.execution_id)
    .where(event_waits.c.canvas == sa.bindparam("b_canvas"),
           event_waits.c.event_type == sa.bindparam("b_type"),
           event_waits.c.match_path == sa.bindparam("b_path"),
           event_waits.c.match_key == sa.bindparam("b_key"), _open)
    # PostgreSQL: a wait ending meanwhile (``end``) waits for this transaction, or is
    # seen gone; its offer is never inserted for a row already deleted.
    .with_for_update(read=True, key_share=True, of=event_waits)
)
_KEYLESS = (
    sa.select(event_waits.c.execution_id)
    .join(executions, executions.c.id == event_waits.c.execution_id)
    .where(event_waits.c.canvas == sa.bindparam("b_canvas"),
           event_waits.c.event_type == sa.bindparam("b_type"),
           event_waits.c.match_path == KEYLESS, _open)
    .order_by(event_waits.c.began_at)
    .limit(KEYLESS_LIMIT + 1)
    .with_for_update(read=True, key_share=True, of=event_waits)
)
_INSERT_OFFERS = event_wait_offers.insert()
# Locks every candidate's row, running or not; only a queued one is made due.
_MAKE_DUE = (
    executions.update()
    .where(executions.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(next_attempt_at=sa.case((executions.c.state == "queued", sa.bindparam("b_now")),
                                    else_=executions.c.next_attempt_at))
)


def offer(conn: Connection, arrivals: list[tuple[str, Event]], now: datetime) -> int:
    """Offer each (canvas, trigger event) to the waits it may match; returns how many
    offers were made. One small query when no canvas among them has waits."""
    if not arrivals:
        return 0
    paths: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in conn.execute(_PATHS, {"canvases": sorted({canvas for canvas, _ in arrivals})}):
        paths[(row.canvas, row.event_type)].append(row.match_path)
    if not paths:
        return 0
    rows = []
    for canvas, event in arrivals:
        for path in paths.get((canvas, event.type), ()):
            for execution_id in _candidates(conn, canvas, event, path):
                rows.append({"id": new_id(), "execution_id": execution_id, "type": event.type,
                             "timestamp": event.timestamp, "data": event.data,
                             "arrived_at": now})
    if not rows:
        return 0
    conn.execute(_INSERT_OFFERS, rows)
    conn.execute(_MAKE_DUE, {"ids": sorted({row["execution_id"] for row in rows}),
                             "b_now": now})
    if conn.dialect.name == "postgresql":
        notify_workers(conn)  # in this process, the caller wakes its worker
    return len(rows)


def _candidates(conn: Connection, canvas: str, event: Event, path: str) -> list[str]:
    params = {"b_canvas": canvas, "b_type": event.type}
    if path == KEYLESS:
        found = list(conn.scalars(_KEYLESS, params))
        if len(found) > KEYLESS_LIMIT:
            log.warning("canvas %s: more than %d waits for %s have no equality to index "
                        "on; the event was offered to the oldest %d only", canvas,
                        KEYLESS_LIMIT, event.type, KEYLESS_LIMIT)
        return found[:KEYLESS_LIMIT]
    key = event_key(event.as_dict(), path)
    if key is None:
        return []
    return list(conn.scalars(_KEYED, {**params, "b_path": path, "b_key": key}))
