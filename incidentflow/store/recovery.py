"""Recovery of runs: replays (new runs of a stored trigger event, linked to the run
they repeat) and the retry of a failed execution, as functions on an open write
transaction (the store runs them through its writer).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import Conflict, NotFound
from incidentflow.store.port import NewExecution, RunRecord
from incidentflow.store.schema import canvases, executions, runs
from incidentflow.store.work_queue import insert_run

_LINK = (
    runs.update()
    .where(runs.c.id == sa.bindparam("b_id"))
    .values(replay_of=sa.bindparam("v_of"), replay_batch=sa.bindparam("v_batch"))
)


def start_replays(
    conn: Connection, replays: list[tuple[RunRecord, list[NewExecution]]],
    batch: str | None, now: datetime,
) -> list[str]:
    """Queued, not handed to a worker: a bulk replay of hundreds of runs is picked up
    at the workers' pace (and the create rate limit still decides every create)."""
    versions: dict[str, int] = {}
    started = []
    for original, first in replays:
        if original.canvas not in versions:
            versions[original.canvas] = _current_version(conn, original.canvas)
        new_id = insert_run(conn, original.canvas, versions[original.canvas],
                            original.trigger_node, original.root, first, now)
        conn.execute(_LINK, {"b_id": new_id, "v_of": original.id, "v_batch": batch})
        started.append(new_id)
    return started


def _current_version(conn: Connection, canvas: str) -> int:
    version = conn.scalar(sa.select(canvases.c.current_version).where(canvases.c.name == canvas))
    if version is None:
        raise NotFound(f"canvas {canvas!r} does not exist")
    return int(version)


def retry_execution(conn: Connection, run_id: str, execution_id: str, now: datetime) -> None:
    """Queue the failed execution again and reopen its run (``Store.retry_execution``).

    The idempotency key stays (docs/design-rules.md, "No transaction around outside
    calls"): if the failed attempt did reach incident.io, the retry cannot open a
    second incident. ``admitted_at`` is cleared so the create rate limit counts it
    again (docs/runaway.md): a person retrying a hundred creates is still limited."""
    state = conn.scalar(sa.select(executions.c.state).where(
        executions.c.id == execution_id, executions.c.run_id == run_id))
    if state is None:
        raise NotFound(f"execution {execution_id!r} of run {run_id!r} does not exist")
    if state != "failed":
        raise Conflict(f"execution {execution_id!r} is {state}: only a failed execution "
                       "can be retried")
    conn.execute(
        executions.update()
        .where(executions.c.id == execution_id, executions.c.state == "failed")
        .values(state="queued", next_attempt_at=now, finished_at=None, error=None,
                error_details=None, admitted_at=None)
    )
    conn.execute(
        runs.update()
        .where(runs.c.id == run_id)
        .values(pending=runs.c.pending + 1, state="running", finished_at=None)
    )
