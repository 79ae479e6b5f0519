"""Read the outcome of a proof straight from the database: what was stored, how often
each execution was attempted, and the delivery counters.

Plain SQL on purpose: the proof must not trust the code it is checking.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class Ledger:
    runs: int
    runs_by_state: dict[str, int]
    executions_by_state: dict[str, int]
    attempts_by_count: dict[int, int]  # attempts -> how many executions took that many
    deliveries_by_outcome: dict[str, int]
    delivery_ids: list[str]  # webhook-ids stored (one row per accepted/duplicate...)
    accepted_ids: list[str]  # webhook-ids of deliveries that started runs
    events: int
    trigger_events: int  # events that came in (deliveries, manual runs), not emitted by nodes
    counters: dict[str, int]

    @property
    def unfinished(self) -> int:
        return self.runs_by_state.get("running", 0)


def read_ledger(database_url: str) -> Ledger:
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return _read(conn)
    finally:
        engine.dispose()


def _grouped(conn: sa.Connection, sql: str) -> dict:
    return {key: count for key, count in conn.exec_driver_sql(sql).all()}


def _read(conn: sa.Connection) -> Ledger:
    runs_by_state = _grouped(conn, "SELECT state, count(*) FROM runs GROUP BY state")
    rows = conn.exec_driver_sql("SELECT webhook_id, outcome FROM deliveries").all()
    counters = conn.exec_driver_sql(
        "SELECT coalesce(sum(accepted_count),0), coalesce(sum(duplicate_count),0),"
        " coalesce(sum(ignored_count),0), coalesce(sum(rejected_count),0) FROM endpoints"
    ).one()
    return Ledger(
        runs=sum(runs_by_state.values()),
        runs_by_state=runs_by_state,
        executions_by_state=_grouped(
            conn, "SELECT state, count(*) FROM executions GROUP BY state"),
        attempts_by_count=_grouped(
            conn, "SELECT attempts, count(*) FROM executions GROUP BY attempts"),
        deliveries_by_outcome=dict(Counter(outcome for _, outcome in rows)),
        delivery_ids=[webhook_id for webhook_id, _ in rows],
        accepted_ids=[webhook_id for webhook_id, outcome in rows if outcome == "accepted"],
        events=conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one(),
        trigger_events=conn.exec_driver_sql(
            "SELECT count(*) FROM events WHERE execution_id IS NULL").scalar_one(),
        counters=dict(zip(("accepted", "duplicate", "ignored", "rejected"), counters,
                          strict=True)),
    )
