"""Direct SQL on the product's database: pre-fill history for the growth figure and
read execution timings for the engine figure (independent of the management API)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.product import Unavailable

BATCH = 5000


def _tables() -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    try:
        from incidentflow.store import schema
    except ImportError as exc:
        raise Unavailable(f"incidentflow.store.schema not importable: {exc}") from exc
    return schema.runs, schema.events, schema.deliveries, schema.executions


def prefill_history(url: str, canvas: str, node: str, endpoint_id: str, count: int) -> None:
    """``count`` past deliveries, each with its run and trigger event, as ingest leaves them.

    Event data is kept small (~150 bytes) so a million rows fit on a laptop disk;
    what grows with history is the indexes the receiver touches.
    """
    runs, events, deliveries, _ = _tables()
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    try:
        for start in range(0, count, BATCH):
            rows = [
                _history_rows(canvas, node, endpoint_id, n, now)
                for n in range(start, min(count, start + BATCH))
            ]
            with engine.begin() as conn:
                conn.execute(sa.insert(runs), [r[0] for r in rows])
                conn.execute(sa.insert(events), [r[1] for r in rows])
                conn.execute(sa.insert(deliveries), [r[2] for r in rows])
        _settle_after_bulk_load(engine)
    finally:
        engine.dispose()


def _settle_after_bulk_load(engine: sa.Engine) -> None:
    """PostgreSQL starts autovacuum and autoanalyze on tables that just grew by a bulk
    load, and that work would land in the 5-second measurement that follows (a 100k
    prefill measured 0.81x, a 1M one 0.96x in the same run). Do it now, as a database
    that grew over months would have had it done: the figure is the steady state."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) runs, events, deliveries")


def _history_rows(
    canvas: str, node: str, endpoint_id: str, n: int, now: datetime
) -> tuple[dict, dict, dict]:
    run_id, event_id, delivery_id = (uuid.uuid4().hex for _ in range(3))
    run = {
        "id": run_id,
        "canvas": canvas,
        "canvas_version": 1,
        "trigger_node": node,
        "root_event_id": event_id,
        "state": "succeeded",
        "pending": 0,  # every execution of a finished run has ended
        "created_at": now,
        "finished_at": now,
    }
    event = {
        "id": event_id,
        "run_id": run_id,
        "node": node,
        "execution_id": None,
        "channel": "default",
        "type": "incident.incident.created",
        "timestamp": now.isoformat(),
        "data": {
            "event_type": "public_incident.incident_created_v2",
            "incident": {"id": f"01HISTORY{n:016d}", "name": f"history #{n}"},
        },
        "created_at": now,
    }
    delivery = {
        "id": delivery_id,
        "endpoint_id": endpoint_id,
        "webhook_id": f"msg_history_{n}",
        "outcome": "accepted",
        "reason": "",
        "run_id": run_id,
        "received_at": now,
    }
    return run, event, delivery


@dataclass(frozen=True)
class Progress:
    finished: int
    pending: int
    first_started: datetime | None
    last_finished: datetime | None

    def rate(self) -> float:
        """Finished executions per second between the first start and the last finish."""
        if not (self.first_started and self.last_finished) or self.finished == 0:
            return 0.0
        seconds = (self.last_finished - self.first_started).total_seconds()
        return self.finished / seconds if seconds > 0 else 0.0


def execution_progress(url: str) -> Progress:
    executions = _tables()[3]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.select(
                sa.func.count(),
                sa.func.min(executions.c.started_at),
                sa.func.max(executions.c.finished_at),
            ).where(executions.c.finished_at.is_not(None))
            finished, first, last = conn.execute(query).one()
            pending = conn.execute(
                sa.select(sa.func.count()).where(executions.c.finished_at.is_(None))
            ).scalar_one()
    finally:
        engine.dispose()
    return Progress(int(finished), int(pending), _aware(first), _aware(last))


def endpoint_ids(url: str, canvas: str) -> dict[str, str]:
    from incidentflow.store import schema

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(schema.endpoints.c.node, schema.endpoints.c.id).where(
                    schema.endpoints.c.canvas == canvas
                )
            ).all()
    finally:
        engine.dispose()
    return {node: endpoint_id for node, endpoint_id in rows}


def _aware(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(
        value, str
    ):  # SQLite through plain Core returns text for the TypeDecorator-less path
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    """Deliveries of one load the product stored as accepted, and how many of their runs
    have finished."""

    accepted: int
    finished: int


@dataclass(frozen=True)
class RunCounts:
    total: int
    finished: int
    last_finished: datetime | None


class ProductCounts:
    """Counts read from the product's database while a figure runs (one engine, reused by
    every poll; ``close`` when done)."""

    def __init__(self, url: str):
        self._engine = sa.create_engine(url)

    def stored(self, webhook_id_prefix: str) -> Stored:
        """Accepted deliveries whose webhook-id starts with the prefix (one load's pool)."""
        from incidentflow.store import schema

        deliveries, runs = schema.deliveries, schema.runs
        query = (
            sa.select(sa.func.count(), sa.func.count(runs.c.finished_at))
            .select_from(deliveries.outerjoin(runs, runs.c.id == deliveries.c.run_id))
            .where(
                deliveries.c.outcome == "accepted",
                deliveries.c.webhook_id.startswith(webhook_id_prefix, autoescape=True),
            )
        )
        with self._engine.connect() as conn:
            accepted, finished = conn.execute(query).one()
        return Stored(int(accepted), int(finished))

    def accepted_among(self, webhook_ids: list[str]) -> set[str]:
        """Those of ``webhook_ids`` the product stored as accepted deliveries."""
        from incidentflow.store import schema

        deliveries = schema.deliveries
        query = sa.select(deliveries.c.webhook_id).where(
            deliveries.c.outcome == "accepted", deliveries.c.webhook_id.in_(webhook_ids)
        )
        with self._engine.connect() as conn:
            return {str(row[0]) for row in conn.execute(query)}

    def runs(self, canvas: str) -> RunCounts:
        from incidentflow.store import schema

        runs = schema.runs
        query = sa.select(
            sa.func.count(), sa.func.count(runs.c.finished_at), sa.func.max(runs.c.finished_at)
        ).where(runs.c.canvas == canvas)
        with self._engine.connect() as conn:
            total, finished, last = conn.execute(query).one()
        return RunCounts(int(total), int(finished), _aware(last))

    def close(self) -> None:
        self._engine.dispose()
