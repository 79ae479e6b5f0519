"""The attempts history of executions: one row per ended attempt, written in the
transaction that records the attempt's outcome, and read back for the run page.

Kept cheap for the hot path: a first-try success writes nothing here (the execution
row already says when it started and finished); a retry, a failure, and a success
after failed attempts write one row each, with the statement that records them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.store.bulk import BulkStatement
from incidentflow.store.records import AttemptRecord  # noqa: F401 (re-exported)
from incidentflow.store.schema import execution_attempts

RETRYING, FAILED, SUCCEEDED = "retrying", "failed", "succeeded"
LOST = "lost"  # its worker stopped while running it; another worker takes it over


_INSERT = execution_attempts.insert()
INSERT_MANY = BulkStatement(
    execution_attempts.insert(),
    ("execution_id", "attempt", "run_id", "outcome", "error", "error_details", "started_at",
     "ended_at", "next_attempt_at"),
)


def attempt_row(
    execution_id: str, attempt: int, run_id: str, outcome: str, started_at: datetime | None,
    ended_at: datetime, error: str | None = None, details: dict[str, Any] | None = None,
    next_attempt_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "execution_id": execution_id, "attempt": attempt, "run_id": run_id,
        "outcome": outcome, "error": error, "error_details": details,
        "started_at": started_at, "ended_at": ended_at, "next_attempt_at": next_attempt_at,
    }


def record(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_INSERT, row)


def of_run(conn: Connection, run_id: str) -> dict[str, list[AttemptRecord]]:
    """The stored attempts of every execution of ``run_id``, oldest first."""
    query = (
        sa.select(execution_attempts)
        .where(execution_attempts.c.run_id == run_id)
        .order_by(execution_attempts.c.execution_id, execution_attempts.c.attempt)
    )
    found: dict[str, list[AttemptRecord]] = defaultdict(list)
    for row in conn.execute(query):
        found[row.execution_id].append(AttemptRecord(
            attempt=row.attempt, outcome=row.outcome, error=row.error,
            error_details=row.error_details, started_at=row.started_at,
            ended_at=row.ended_at, next_attempt_at=row.next_attempt_at,
        ))
    return dict(found)
