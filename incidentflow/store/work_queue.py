"""Runs, events and executions: the engine's queue, as functions on an open transaction.

Each function runs inside the caller's transaction (``Database.write``/``read``, or a
group-commit batch), so the store composes them into the single transactions the port
promises.

The statements of the hot paths (a delivery's run, a claim) are built once, with bind
parameters: building a SQLAlchemy statement per call cost more than executing it.
Finishes are recorded a batch at a time: ``store.finishes``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.events import Event
from incidentflow.store import attempts as attempt_rows
from incidentflow.store import event_waits
from incidentflow.store.codec import new_id
from incidentflow.store.handoff import Handoff, RunContext
from incidentflow.store.port import ClaimedExecution, NewExecution
from incidentflow.store.schema import QUEUED, RUNNING, events, executions, runs

_INSERT_RUN = runs.insert()
_INSERT_EVENT = events.insert()
_INSERT_EXECUTIONS = executions.insert()
_SETTLE = (
    runs.update()
    .where(runs.c.id == sa.bindparam("b_run"))
    .values(pending=runs.c.pending + sa.bindparam("b_delta"))
    .returning(runs.c.pending)
)


def _end_lease_statement(*columns: str) -> Any:
    """UPDATE of a running execution still leased to ``b_worker``, setting ``columns``
    from ``v_<column>`` parameters; returns (run_id, node, attempts, attempt_started_at)
    or no row."""
    return (
        executions.update()
        .where(
            executions.c.id == sa.bindparam("b_id"),
            executions.c.lease_owner == sa.bindparam("b_worker"),
            executions.c.state == "running",
        )
        .values(
            lease_owner=None, lease_expires_at=None,
            **{column: sa.bindparam(f"v_{column}") for column in columns},
        )
        .returning(executions.c.run_id, executions.c.node, executions.c.attempts,
                   executions.c.attempt_started_at)
    )


_OUTCOME_COLUMNS = ("state", "resolved_config", "error", "error_details")
_FAIL = _end_lease_statement(*_OUTCOME_COLUMNS, "finished_at")  # finishes: store.finishes
_RETRY = _end_lease_statement(*_OUTCOME_COLUMNS, "next_attempt_at")


def insert_run(
    conn: Connection,
    canvas: str,
    version: int,
    node: str,
    event: Event,
    first: list[NewExecution],
    now: datetime,
    run_id: str | None = None,
    handoff: Handoff | None = None,
) -> str:
    """A run, its trigger event (emitted by ``node``) and its first executions (leased
    to the local worker where ``handoff`` allows, see ``store.handoff``); the event is
    offered to the canvas's waits (``waitForEvent``, ``store.event_waits``)."""
    run_id = run_id or new_id()
    event_id = new_id()
    conn.execute(
        _INSERT_RUN,
        {
            "id": run_id, "canvas": canvas, "canvas_version": version, "trigger_node": node,
            "root_event_id": event_id, "state": "running" if first else "succeeded",
            "pending": len(first), "created_at": now, "finished_at": None if first else now,
        },
    )
    _insert_event(conn, event_id, run_id, node, None, "default", event, now)
    context = RunContext(run_id, canvas, version, event)
    insert_executions(conn, run_id, event_id, first, now, handoff, context)
    event_waits.offer(conn, [(canvas, event)], now)
    return run_id


def _insert_event(
    conn: Connection, event_id: str, run_id: str, node: str,
    execution_id: str | None, channel: str, event: Event, now: datetime,
) -> None:
    conn.execute(_INSERT_EVENT, event_row(event_id, run_id, node, execution_id, channel,
                                           event, now))


# The keys of ``event_row`` and ``execution_rows`` (store.bulk inserts exactly these).
EVENT_COLUMNS = ("id", "run_id", "node", "execution_id", "channel", "type", "timestamp",
                 "data", "created_at")
EXECUTION_COLUMNS = ("id", "run_id", "node", "input_event_id", "state", "attempts",
                     "next_attempt_at", "idempotency_key", "concurrency_key", "created_at",
                     "lease_owner", "lease_expires_at", "started_at", "attempt_started_at")


def event_row(
    event_id: str, run_id: str, node: str, execution_id: str | None, channel: str,
    event: Event, now: datetime,
) -> dict[str, Any]:
    return {
        "id": event_id, "run_id": run_id, "node": node, "execution_id": execution_id,
        "channel": channel, "type": event.type, "timestamp": event.timestamp,
        "data": event.data, "created_at": now,
    }


def insert_executions(
    conn: Connection, run_id: str, input_event_id: str, new: list[NewExecution], now: datetime,
    handoff: Handoff | None = None, run: RunContext | None = None,
) -> None:
    rows = execution_rows(run_id, input_event_id, new, now, handoff, run)
    if rows:
        conn.execute(_INSERT_EXECUTIONS, rows)


def execution_rows(
    run_id: str, input_event_id: str, new: list[NewExecution], now: datetime,
    handoff: Handoff | None = None, run: RunContext | None = None,
) -> list[dict[str, Any]]:
    """The rows of new executions, leased to the local worker where ``handoff`` allows."""
    rows = []
    for item in new:
        execution_id = new_id()
        key = f"if-{execution_id}"
        row = {
            "id": execution_id, "run_id": run_id, "node": item.node,
            "input_event_id": input_event_id, "state": "queued", "attempts": 0,
            "next_attempt_at": item.not_before or now, "idempotency_key": key,
            "concurrency_key": item.concurrency_key, "created_at": now,
            "lease_owner": None, "lease_expires_at": None, "started_at": None,
            "attempt_started_at": None,
        }
        lease = handoff.lease(item) if handoff is not None and run is not None else None
        if lease is not None:
            owner, expires = lease
            row |= {"state": "running", "attempts": 1, "next_attempt_at": None,
                    "lease_owner": owner, "lease_expires_at": expires, "started_at": now,
                    "attempt_started_at": now}
            handoff.add(run, execution_id, item, key, expires)  # type: ignore[union-attr,arg-type]
        rows.append(row)
    return rows


# -- claim -------------------------------------------------------------------------

def claim(
    conn: Connection, worker_id: str, now: datetime, lease_seconds: float, limit: int
) -> list[ClaimedExecution]:
    due = _due_queued(conn, now, limit)
    if len(due) < limit:  # then work whose worker died (lease expired)
        due += _expired(conn, now, limit - len(due))
    if not due:
        return []
    conn.execute(_LEASE, {"ids": due, "v_worker": worker_id, "v_now": now,
                          "v_expires": now + timedelta(seconds=lease_seconds)})
    return _claimed(conn, due)


_LEASE = (
    executions.update()
    .where(executions.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        state="running", lease_owner=sa.bindparam("v_worker"),
        lease_expires_at=sa.bindparam("v_expires"),
        attempts=executions.c.attempts + 1, next_attempt_at=None,
        started_at=sa.func.coalesce(executions.c.started_at, sa.bindparam("v_now")),
        attempt_started_at=sa.bindparam("v_now"),
    )
)


_earlier = executions.alias("earlier")
# Per-key ordering (engine.router): an execution with a concurrency key waits while an
# earlier one of the same key is queued (in enqueue order = id order) or running.
_KEY_BLOCKED = (
    sa.exists()
    .where(
        _earlier.c.concurrency_key == executions.c.concurrency_key,
        sa.or_(
            _earlier.c.state == "running",
            sa.and_(_earlier.c.state == "queued", _earlier.c.id < executions.c.id),
        ),
    )
    .correlate(executions)
)
_KEY_FREE = sa.or_(executions.c.concurrency_key.is_(None), ~_KEY_BLOCKED)


_DUE_QUEUED = (
    sa.select(executions.c.id)
    .where(
        executions.c.state == QUEUED,
        executions.c.next_attempt_at <= sa.bindparam("b_now"),
        _KEY_FREE,
    )
    .order_by(executions.c.next_attempt_at, executions.c.id)
    .limit(sa.bindparam("b_limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)  # ignored by SQLite, where writes are serial
)
_EXPIRED = (
    sa.select(executions.c.id, executions.c.lease_owner, executions.c.error_details,
              executions.c.run_id, executions.c.attempts, executions.c.attempt_started_at)
    .where(executions.c.state == RUNNING,
           executions.c.lease_expires_at <= sa.bindparam("b_now"))
    .order_by(executions.c.lease_expires_at)
    .limit(sa.bindparam("b_limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
_root = events.alias("root")
_given = events.alias("given")
# Only what a ClaimedExecution holds, read by position: a claim reads many rows, and
# mapping lookups by column object cost more than the query.
_IS_ROOT = executions.c.input_event_id == runs.c.root_event_id
_CLAIMED = (
    sa.select(
        executions.c.id, executions.c.run_id, runs.c.canvas, runs.c.canvas_version,
        executions.c.node, _given.c.type, _given.c.data, _given.c.timestamp,
        executions.c.attempts, executions.c.idempotency_key, _IS_ROOT,
        # A run's first executions handle its trigger event itself: its data (often
        # kilobytes of JSON) is read and decoded once, not twice.
        _root.c.type, sa.case((_IS_ROOT, sa.null()), else_=_root.c.data).label("root_data"),
        _root.c.timestamp, executions.c.lease_expires_at,
    )
    .join(runs, runs.c.id == executions.c.run_id)
    .join(_root, _root.c.id == runs.c.root_event_id)
    .join(_given, _given.c.id == executions.c.input_event_id)
    .where(executions.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(executions.c.id)
)


def _due_queued(conn: Connection, now: datetime, limit: int) -> list[str]:
    return list(conn.scalars(_DUE_QUEUED, {"b_now": now, "b_limit": limit}))


# An execution whose worker died while running it this many times in a row is failed
# rather than taken over again: it is most likely what kills the workers (a poison pill
# that would otherwise outlive every restart). Counted in ``error_details`` of the
# running execution; a recorded outcome (finish, retry) replaces it.
MAX_LEASE_EXPIRIES = 3
LEASE_EXPIRIES = "leaseExpiries"
_COUNT_EXPIRY = (
    executions.update()
    .where(executions.c.id == sa.bindparam("b_id"))
    .values(error=sa.bindparam("v_error"), error_details=sa.bindparam("v_details"))
)


def _expired(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Executions to take over (their worker died); the ones whose workers keep dying
    are failed instead."""
    taken = []
    for execution_id, owner, details, run_id, attempt, started in conn.execute(
            _EXPIRED, {"b_now": now, "b_limit": limit}).all():
        count = _expiries(details) + 1
        error = (f"its worker stopped while running it (lease expired) {count} "
                 f"time{'s' if count > 1 else ''} in a row")
        if count >= MAX_LEASE_EXPIRIES:
            fail(conn, execution_id, owner, f"{error}; failed rather than taken over again "
                 "(see the worker logs for what stopped it)", {LEASE_EXPIRIES: count}, None, now)
            continue
        conn.execute(_COUNT_EXPIRY, {"b_id": execution_id, "v_error": error,
                                     "v_details": {LEASE_EXPIRIES: count}})
        attempt_rows.record(conn, attempt_rows.attempt_row(  # the lost attempt, in the history too
            execution_id, attempt, run_id, attempt_rows.LOST, started, now, error,
            {LEASE_EXPIRIES: count}, now))
        taken.append(execution_id)
    return taken


def _expiries(details: Any) -> int:
    count = details.get(LEASE_EXPIRIES) if isinstance(details, dict) else None
    return count if isinstance(count, int) else 0


def _claimed(conn: Connection, ids: list[str]) -> list[ClaimedExecution]:
    claimed = []
    for (id_, run_id, canvas, version, node, given_type, given_data, given_timestamp,
         attempts, key, is_root, root_type, root_data, root_timestamp,
         expires) in conn.execute(_CLAIMED, {"ids": ids}):
        given = Event(type=given_type, data=given_data, timestamp=given_timestamp)
        root = given if is_root else Event(root_type, root_data, root_timestamp)
        claimed.append(ClaimedExecution(
            id=id_, run_id=run_id, canvas=canvas, canvas_version=version, node=node,
            input=given, attempt=attempts, idempotency_key=key, root=root,
            lease_expires_at=expires,
        ))
    return claimed


def event_of(mapping: Any, table: Any = events) -> Event:
    return Event(
        type=mapping[table.c.type], data=mapping[table.c.data], timestamp=mapping[table.c.timestamp]
    )


# -- outcomes ----------------------------------------------------------------------

def _end_lease(
    conn: Connection, statement: Any, execution_id: str, worker_id: str,
    values: dict[str, Any],
) -> Any:
    """Apply ``values`` if ``worker_id`` still holds the lease; return (run_id, node,
    attempts, attempt_started_at)."""
    params = {"b_id": execution_id, "b_worker": worker_id}
    params.update({f"v_{column}": value for column, value in values.items()})
    return conn.execute(statement, params).first()


def retry_later(
    conn: Connection, execution_id: str, worker_id: str, error: str,
    details: dict[str, Any] | None, resolved_config: dict[str, Any] | None,
    next_attempt_at: datetime, now: datetime,
) -> bool:
    ended = _end_lease(
        conn, _RETRY, execution_id, worker_id,
        {"state": "queued", "next_attempt_at": next_attempt_at, "error": error,
         "error_details": details, "resolved_config": resolved_config},
    )
    if ended is None:
        return False
    attempt_rows.record(conn, attempt_rows.attempt_row(
        execution_id, ended.attempts, ended.run_id, attempt_rows.RETRYING,
        ended.attempt_started_at, now, error, details, next_attempt_at))
    return True


def fail(
    conn: Connection, execution_id: str, worker_id: str, error: str,
    details: dict[str, Any] | None, resolved_config: dict[str, Any] | None, now: datetime,
) -> bool:
    ended = _end_lease(
        conn, _FAIL, execution_id, worker_id,
        {"state": "failed", "finished_at": now, "error": error, "error_details": details,
         "resolved_config": resolved_config},
    )
    if ended is None:
        return False
    attempt_rows.record(conn, attempt_rows.attempt_row(
        execution_id, ended.attempts, ended.run_id, attempt_rows.FAILED,
        ended.attempt_started_at, now, error, details))
    settle_run(conn, ended.run_id, 0, now)
    return True


def settle_run(conn: Connection, run_id: str, enqueued: int, now: datetime) -> None:
    """One execution of the run ended, having enqueued ``enqueued`` more; the run is
    finished when none is pending. Kept last in the transaction: the row lock it takes
    serializes the run's finishes, so hold it briefly."""
    pending = conn.execute(_SETTLE, {"b_run": run_id, "b_delta": enqueued - 1}).scalar_one()
    if pending > 0:
        return
    failed = conn.execute(
        sa.select(executions.c.id)
        .where(executions.c.run_id == run_id, executions.c.state == "failed")
        .limit(1)
    ).first()
    conn.execute(
        runs.update()
        .where(runs.c.id == run_id, runs.c.state == "running")
        .values(state="failed" if failed else "succeeded", finished_at=now)
    )


def release(conn: Connection, worker_id: str, now: datetime) -> int:
    # Released work never ran (the worker stops claiming, then waits for what it
    # started), so the attempt it was claimed for is handed back too.
    result = conn.execute(
        executions.update()
        .where(executions.c.lease_owner == worker_id, executions.c.state == RUNNING)
        .values(
            state="queued", lease_owner=None, lease_expires_at=None, next_attempt_at=now,
            attempts=executions.c.attempts - 1,
        )
    )
    return result.rowcount


def extend_leases(
    conn: Connection, worker_id: str, ids: list[str], now: datetime, lease_seconds: float
) -> int:
    if not ids:
        return 0
    result = conn.execute(
        executions.update()
        .where(
            executions.c.id.in_(ids),
            executions.c.lease_owner == worker_id,
            executions.c.state == "running",
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return result.rowcount


_NEXT_DUE = (  # the partial index ix_executions_queued_due answers it
    sa.select(sa.func.min(executions.c.next_attempt_at))
    .where(executions.c.state == QUEUED, executions.c.next_attempt_at > sa.bindparam("b_now"))
)


def next_due(conn: Connection, now: datetime) -> datetime | None:
    """When the earliest execution queued for later (a retry, a wait) becomes due."""
    when: datetime | None = conn.scalar(_NEXT_DUE, {"b_now": now})
    return when


def queue_depth(conn: Connection, now: datetime) -> int:
    due = sa.or_(
        sa.and_(executions.c.state == QUEUED, executions.c.next_attempt_at <= now),
        sa.and_(executions.c.state == RUNNING, executions.c.lease_expires_at <= now),
    )
    return int(conn.scalar(sa.select(sa.func.count()).select_from(executions).where(due)) or 0)


def node_events(conn: Connection, run_id: str) -> dict[str, Event]:
    query = sa.select(events).where(events.c.run_id == run_id).order_by(events.c.id)
    return {row.node: event_of(row._mapping) for row in conn.execute(query)}
