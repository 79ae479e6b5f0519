"""``SqlWaits``: the waiting steps' side of the SQL store — ``wait`` and approvals
(``store.waits``), ``waitForEvent`` (``store.event_waits``) and cancelling a run — on
the group-commit writer. ``store.sql.SqlStore`` extends it; it extends the engine's
half, ``store.sql_work.SqlWork``.

Each method hands one SQL function of those rooms to the writer or a read transaction.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from datetime import datetime
from functools import partial
from typing import Any

from incidentflow.errors import Conflict, NotFound
from incidentflow.store import event_waits, waits
from incidentflow.store.port import EventOffer, EventWait
from incidentflow.store.sql_work import SqlWork
from incidentflow.wait_records import Wait, Waiting

log = logging.getLogger(__name__)


class SqlWaits(SqlWork):
    # -- waiting steps and cancelling runs (store/waits.py) -------------------------------
    def begin_wait(
        self, execution_id: str, worker_id: str, waiting: Waiting,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> bool:
        begin = partial(waits.begin_for, execution_id=execution_id, worker_id=worker_id,
                        waiting=waiting, resolved_config=resolved_config, now=now)
        begun: bool = self._db.writer.submit(begin).result()
        return begun

    def take_wait(self, execution_id: str, now: datetime) -> Wait | None:
        take = partial(waits.take, execution_id=execution_id, now=now)
        wait: Wait | None = self._db.writer.submit(take).result()
        return wait

    def settle_wait(self, execution_id: str, outcome: dict[str, Any], now: datetime) -> bool:
        settle = partial(waits.settle, execution_id=execution_id, outcome=outcome, now=now)
        # The execution is due now: wake the workers (NOTIFY on PostgreSQL).
        settled: bool = self._db.writer.submit(settle, lambda done: done).result()
        return settled

    def run_waits(self, run_id: str) -> list[Wait]:
        with self._db.read() as conn:
            return waits.of_run(conn, run_id)

    def open_waits(self, kind: str | None = None, limit: int = 200,
                   canvas: str | None = None, key: str | None = None) -> list[Wait]:
        with self._db.read() as conn:
            return waits.open_waits(conn, kind, limit, canvas, key)

    def cancel_run(self, run_id: str, who: str, now: datetime) -> None:
        cancel = partial(waits.cancel_run, run_id=run_id, who=who, now=now)
        answer = self._db.writer.submit(cancel).result()
        if answer == "missing":
            raise NotFound(f"run {run_id!r} does not exist")
        if answer == "finished":
            with self._db.read() as conn:
                state = waits.run_state(conn, run_id)
            raise Conflict(f"run {run_id!r} has already ended ({state}): only a run still "
                           "running or waiting can be cancelled")

    def waiting_counts(self, now: datetime) -> dict[str, int]:
        with self._db.read() as conn:
            return waits.waiting_counts(conn, now)

    # -- waitForEvent (store/event_waits.py) ----------------------------------------------
    def event_wait(
        self, execution_id: str, offers: int = 0
    ) -> tuple[EventWait | None, list[EventOffer]]:
        with self._db.read() as conn:
            wait = event_waits.wait_of(conn, execution_id)
            if wait is None or offers <= 0:
                return wait, []
            return wait, event_waits.offers_of(conn, execution_id, offers)

    def event_offers(self, execution_id: str, limit: int) -> list[EventOffer]:
        with self._db.read() as conn:
            return event_waits.offers_of(conn, execution_id, limit)

    def park_for_event(
        self, wait: EventWait, worker_id: str, seen: list[str],
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> datetime | None:
        park = partial(event_waits.park, wait=wait, worker_id=worker_id, seen=seen,
                       resolved_config=resolved_config, now=now)
        # Offers left to evaluate make it due now: wake the workers (NOTIFY elsewhere).
        due: datetime | None = self._db.writer.submit(
            park, lambda due: due is not None and due <= now).result()
        return due

    def end_event_wait(self, execution_id: str) -> None:
        end = partial(event_waits.end, execution_id=execution_id)
        # Neither durable nor awaited: a wait row left behind (a power cut, a failed
        # batch) belongs to a finished execution, which no event is offered to
        # (``event_waits.OPEN_STATES``), and goes with its run.
        self._db.writer.submit(end, durable=False).add_done_callback(_log_failure)

    def event_waits_of_run(self, run_id: str) -> list[EventWait]:
        with self._db.read() as conn:
            return event_waits.of_run(conn, run_id)


def _log_failure(done: Future[Any]) -> None:
    error = done.exception()
    if error is not None:
        log.warning("forgetting a finished wait failed: %s", error)
