"""Read models for the UI and API: runs with their executions, recent deliveries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import NotFound
from incidentflow.store import attempts
from incidentflow.store.port import DeliveryRecord, ExecutionRecord, RunRecord
from incidentflow.store.schema import deliveries, events, executions, runs
from incidentflow.store.work_queue import event_of


def get_run(conn: Connection, run_id: str) -> RunRecord:
    rows = _runs(conn, runs.c.id == run_id, limit=1)
    if not rows:
        raise NotFound(f"run {run_id!r} does not exist")
    replays = list(conn.scalars(
        sa.select(runs.c.id).where(runs.c.replay_of == run_id).order_by(runs.c.id)))
    return replace(_with_executions(conn, rows[0]), replayed_as=replays)


def list_runs(conn: Connection, canvas: str, limit: int) -> list[RunRecord]:
    """Newest first, without executions (open one run for those)."""
    return _runs(conn, runs.c.canvas == canvas, limit)


def _runs(conn: Connection, where: Any, limit: int) -> list[RunRecord]:
    query = (
        sa.select(runs, events.c.type, events.c.data, events.c.timestamp)
        .join(events, events.c.id == runs.c.root_event_id)
        .where(where)
        .order_by(runs.c.id.desc())
        .limit(limit)
    )
    return [run_of(row) for row in conn.execute(query)]


def run_of(row: Any) -> RunRecord:
    """A run from a row of ``runs`` joined with its trigger event."""
    return RunRecord(
        id=row.id, canvas=row.canvas, canvas_version=row.canvas_version,
        trigger_node=row.trigger_node, state=row.state, root=event_of(row._mapping),
        created_at=row.created_at, finished_at=row.finished_at,
        replay_of=row.replay_of, replay_batch=row.replay_batch,
    )


def _with_executions(conn: Connection, run: RunRecord) -> RunRecord:
    emitted = _emitted_by_execution(conn, run.id)
    history = attempts.of_run(conn, run.id)
    query = (
        sa.select(executions, events.c.type, events.c.data, events.c.timestamp)
        .join(events, events.c.id == executions.c.input_event_id)
        .where(executions.c.run_id == run.id)
        .order_by(executions.c.id)
    )
    records = [
        ExecutionRecord(
            id=row.id, run_id=row.run_id, node=row.node, state=row.state,
            attempts=row.attempts, idempotency_key=row.idempotency_key,
            input=event_of(row._mapping), resolved_config=row.resolved_config,
            emitted=emitted.get(row.id, []), error=row.error, error_details=row.error_details,
            created_at=row.created_at, started_at=row.started_at,
            finished_at=row.finished_at, next_attempt_at=row.next_attempt_at,
            attempt_started_at=row.attempt_started_at,
            attempt_history=history.get(row.id, []),
        )
        for row in conn.execute(query)
    ]
    return replace(run, executions=records)


def _emitted_by_execution(conn: Connection, run_id: str) -> dict[str, list[dict[str, Any]]]:
    query = (
        sa.select(events)
        .where(events.c.run_id == run_id, events.c.execution_id.is_not(None))
        .order_by(events.c.id)
    )
    emitted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(query):
        event = event_of(row._mapping)
        emitted[row.execution_id].append({"channel": row.channel, "event": event.as_dict()})
    return emitted


def recent_deliveries(conn: Connection, endpoint_id: str, limit: int) -> list[DeliveryRecord]:
    query = (
        sa.select(deliveries)
        .where(deliveries.c.endpoint_id == endpoint_id)
        .order_by(deliveries.c.received_at.desc(), deliveries.c.id.desc())
        .limit(limit)
    )
    return [
        DeliveryRecord(
            id=row.id, endpoint_id=row.endpoint_id, webhook_id=row.webhook_id,
            outcome=row.outcome, reason=row.reason, received_at=row.received_at,
            run_id=row.run_id, held=len(row.held_events or ()), code=row.code or "",
        )
        for row in conn.execute(query)
    ]
