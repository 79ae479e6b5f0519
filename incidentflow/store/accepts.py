"""Delivery acceptance and dedupe, written once: every webhook delivery of a
group-commit batch recorded with a handful of statements, whatever the batch's size.

``accept_many`` records a whole batch: one read of the endpoints, one of the
webhook-ids already seen, one ``executemany`` per table, one counter update per
endpoint (executing statements one by one, not the database, was most of the
writer's time under load). A webhook-id seen before, or earlier in the same batch, is
a duplicate and writes only its count: the dedupe is this read, not the UNIQUE
constraint, which is only the last line of defence.

A delivery alone (``accept_one``: the writer redoes a batch job by job when one of
them raised) is the same path with one item. An unknown endpoint raises (that
delivery alone gets the 404). On PostgreSQL another process may insert the same
webhook-id between our read and our insert: alone, the delivery runs in a savepoint
and, on that UNIQUE violation, is read again and answered as the duplicate it is.
Rejections (``reject``) are recorded here too: one room for the delivery log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store import event_waits
from incidentflow.store.bulk import BulkStatement
from incidentflow.store.codec import new_id
from incidentflow.store.handoff import Handoff, RunContext
from incidentflow.store.pauses import held_events
from incidentflow.store.port import DeliveryOutcome, DeliveryResult, NewExecution
from incidentflow.store.records import FILTERED_REASON
from incidentflow.store.schema import canvases, deliveries, endpoints, events, executions, runs
from incidentflow.store.work_queue import (
    EVENT_COLUMNS,
    EXECUTION_COLUMNS,
    event_row,
    execution_rows,
)


@dataclass
class Accept:
    """One ``Store.accept_delivery`` call (its ``handoff`` is reset at each attempt)."""

    endpoint_id: str
    webhook_id: str | None
    events: list[tuple[Event, list[NewExecution]]]
    now: datetime
    handoff: Handoff | None = None
    reason: str = ""  # why there is no event to run, when there is none


_TARGETS = (
    sa.select(endpoints.c.id, endpoints.c.canvas, endpoints.c.node, canvases.c.current_version,
              canvases.c.paused_at)
    .join(canvases, canvases.c.name == endpoints.c.canvas)
    .where(endpoints.c.id.in_(sa.bindparam("ids", expanding=True)))
)
_SEEN = sa.select(deliveries.c.endpoint_id, deliveries.c.webhook_id).where(
    deliveries.c.endpoint_id.in_(sa.bindparam("endpoints", expanding=True)),
    deliveries.c.webhook_id.in_(sa.bindparam("webhooks", expanding=True)),
)
_DELIVERY_COLUMNS = ("id", "endpoint_id", "webhook_id", "outcome", "reason", "run_id",
                     "received_at", "held_events")
_RUN_COLUMNS = ("id", "canvas", "canvas_version", "trigger_node", "root_event_id", "state",
                "pending", "created_at", "finished_at")
_INSERT_DELIVERIES = BulkStatement(deliveries.insert(), _DELIVERY_COLUMNS)
_INSERT_RUNS = BulkStatement(runs.insert(), _RUN_COLUMNS)
_INSERT_EVENTS = BulkStatement(events.insert(), EVENT_COLUMNS)
_INSERT_EXECUTIONS = BulkStatement(executions.insert(), EXECUTION_COLUMNS)
_COUNTED = ("accepted", "duplicate", "ignored", "filtered", "paused")
_INSERT_REJECTION = deliveries.insert()
_COUNT_REJECTED = (
    endpoints.update()
    .where(endpoints.c.id == sa.bindparam("b_endpoint"))
    .values({endpoints.c.rejected_count: endpoints.c.rejected_count + 1,
             endpoints.c.last_delivery_at: sa.bindparam("b_at")})
)
NO_EVENT = "no event to run"
FILTERED = FILTERED_REASON  # recorded (and counted) as "filtered", not "ignored"
PAUSED = "canvas paused: held until it is resumed"
_COUNT = BulkStatement(
    endpoints.update()
    .where(endpoints.c.id == sa.bindparam("b_endpoint"))
    .values({
        **{endpoints.c[f"{outcome}_count"]:
           endpoints.c[f"{outcome}_count"] + sa.bindparam(f"b_{outcome}", type_=sa.Integer)
           for outcome in _COUNTED},
        endpoints.c.last_delivery_at: sa.bindparam("b_at"),
    })
)


@dataclass
class _Rows:
    deliveries: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    events: list[dict[str, Any]]
    executions: list[dict[str, Any]]
    counts: dict[str, dict[str, Any]]  # endpoint -> its counter update
    arrivals: list[tuple[str, Event]]  # (canvas, trigger event) of each run


def accept_many(conn: Connection, accepts: list[Accept]) -> list[DeliveryResult]:
    """Record ``accepts`` (in order) in the open transaction; one result each."""
    for item in accepts:
        if item.handoff is not None:
            item.handoff.reset()
    targets = _targets(conn, {item.endpoint_id for item in accepts})
    seen = _seen(conn, accepts)
    rows = _Rows([], [], [], [], {}, [])
    results = [_accept(item, targets[item.endpoint_id], seen, rows) for item in accepts]
    _INSERT_RUNS.execute(conn, rows.runs)  # in foreign-key order
    _INSERT_EVENTS.execute(conn, rows.events)
    _INSERT_EXECUTIONS.execute(conn, rows.executions)
    _INSERT_DELIVERIES.execute(conn, rows.deliveries)
    _COUNT.execute(conn, [rows.counts[endpoint] for endpoint in sorted(rows.counts)])
    if accepts:  # the runs' events, offered to the waits of their canvases (waitForEvent)
        event_waits.offer(conn, rows.arrivals, accepts[-1].now)
    return results


def accept_one(conn: Connection, item: Accept, concurrent_inserts: bool) -> DeliveryResult:
    """``item`` alone. ``concurrent_inserts``: another process may insert the same
    webhook-id meanwhile (PostgreSQL); SQLite's writers are serial, across processes
    too, so there the read that deduplicates is enough and no savepoint is paid for."""
    if not concurrent_inserts or item.webhook_id is None:
        return accept_many(conn, [item])[0]
    try:
        with conn.begin_nested():
            return accept_many(conn, [item])[0]
    except sa.exc.IntegrityError:  # it committed first: now our read sees it
        return accept_many(conn, [item])[0]


def reject(conn: Connection, endpoint_id: str, reason: str, now: datetime,
           code: str = "other") -> None:
    """A delivery refused before it could run (bad signature, ...): logged with its
    ``code`` (a ``RejectionCode`` value) and counted."""
    _targets(conn, {endpoint_id})  # NotFound for an unknown endpoint
    conn.execute(_INSERT_REJECTION, {
        "id": new_id(), "endpoint_id": endpoint_id, "webhook_id": None,
        "outcome": "rejected", "reason": reason, "code": code, "run_id": None,
        "received_at": now,
    })
    conn.execute(_COUNT_REJECTED, {"b_endpoint": endpoint_id, "b_at": now})


def _targets(conn: Connection, ids: set[str]) -> dict[str, Any]:
    found = {row.id: row for row in conn.execute(_TARGETS, {"ids": sorted(ids)})}
    missing = ids - set(found)
    if missing:  # the batch is redone job by job: that delivery alone gets the 404
        raise NotFound(f"webhook endpoint {sorted(missing)[0]!r} does not exist")
    return found


def _seen(conn: Connection, accepts: list[Accept]) -> set[tuple[str, str]]:
    webhooks = sorted({item.webhook_id for item in accepts if item.webhook_id is not None})
    if not webhooks:
        return set()
    params = {"endpoints": sorted({item.endpoint_id for item in accepts}), "webhooks": webhooks}
    return {(row.endpoint_id, row.webhook_id) for row in conn.execute(_SEEN, params)}


def _accept(item: Accept, target: Any, seen: set[tuple[str, str]], rows: _Rows) -> DeliveryResult:
    key = (item.endpoint_id, item.webhook_id or "")
    if item.webhook_id is not None and key in seen:
        _count(rows, item, "duplicate")
        return DeliveryResult("duplicate", [])
    if item.webhook_id is not None:
        seen.add(key)  # a second delivery with this id later in the batch: a duplicate
    if target.paused_at is not None and item.events:
        return _hold(item, rows)
    run_ids = [new_id() for _ in item.events]
    reason = "" if item.events else item.reason or NO_EVENT
    outcome = outcome_of(bool(item.events), reason)
    rows.deliveries.append({
        "id": new_id(), "endpoint_id": item.endpoint_id, "webhook_id": item.webhook_id,
        "outcome": outcome, "reason": reason,
        "run_id": run_ids[0] if run_ids else None, "received_at": item.now,
        "held_events": None,
    })
    for run_id, (event, first) in zip(run_ids, item.events, strict=True):
        _add_run(rows, item, target, run_id, event, first)
    _count(rows, item, outcome)
    return DeliveryResult(outcome, run_ids, reason)


def outcome_of(started: bool, reason: str) -> DeliveryOutcome:
    """What an accepted (2xx) delivery is recorded as."""
    if started:
        return "accepted"
    return "filtered" if reason.startswith(FILTERED) else "ignored"


def _hold(item: Accept, rows: _Rows) -> DeliveryResult:
    """The canvas is paused: the delivery keeps its events and starts nothing."""
    rows.deliveries.append({
        "id": new_id(), "endpoint_id": item.endpoint_id, "webhook_id": item.webhook_id,
        "outcome": "paused", "reason": PAUSED, "run_id": None, "received_at": item.now,
        "held_events": held_events(item.events),
    })
    _count(rows, item, "paused")
    return DeliveryResult("paused", [], PAUSED)


def _add_run(rows: _Rows, item: Accept, target: Any, run_id: str, event: Event,
             first: list[NewExecution]) -> None:
    """What ``queue.insert_run`` inserts: the run, its trigger event, its first
    executions (leased to the local worker where the handoff allows)."""
    event_id, now = new_id(), item.now
    rows.runs.append({
        "id": run_id, "canvas": target.canvas, "canvas_version": target.current_version,
        "trigger_node": target.node, "root_event_id": event_id,
        "state": "running" if first else "succeeded", "pending": len(first),
        "created_at": now, "finished_at": None if first else now,
    })
    rows.events.append(event_row(event_id, run_id, target.node, None, "default", event, now))
    rows.arrivals.append((target.canvas, event))
    context = RunContext(run_id, target.canvas, target.current_version, event)
    rows.executions += execution_rows(run_id, event_id, first, now, item.handoff, context)


def _count(rows: _Rows, item: Accept, outcome: str) -> None:
    counts = rows.counts.setdefault(
        item.endpoint_id,
        {"b_endpoint": item.endpoint_id, **{f"b_{name}": 0 for name in _COUNTED}},
    )
    counts[f"b_{outcome}"] += 1
    counts["b_at"] = item.now  # the last delivery's time, as one update per delivery left it
