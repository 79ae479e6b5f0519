"""``SqlRuns``: the SQL store's room of runs — started by hand, by a schedule
(``store/schedules.py``) or by On Incident's catch-up poll (``store/catch_up.py``),
listed (``store/history.py``, ``store/run_list.py``) and recovered
(``store/recovery.py``) — each start through the group-commit writer, handing its
first executions to the local worker (``store.handoff``).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.engine import Connection

from incidentflow.events import Event
from incidentflow.store import canvas_rows, history, recovery, run_list, work_queue
from incidentflow.store import catch_up as catch_up_rows
from incidentflow.store import roots as root_rows
from incidentflow.store import schedules as schedule_rows
from incidentflow.store.records import (
    Activity,
    CatchUpState,
    NewExecution,
    RunFilter,
    RunPage,
    RunRecord,
)
from incidentflow.store.sql_base import SqlBase
from incidentflow.store.sql_hot_writes import left_queued


class SqlRuns(SqlBase):
    def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime
    ) -> str:
        handoff = self._handoff(now)

        def start(conn: Connection) -> str:
            if handoff is not None:
                handoff.reset()
            version = canvas_rows.current_version(conn, canvas)
            return work_queue.insert_run(conn, canvas, version, node, event, first, now,
                                    handoff=handoff)

        return self._db.writer.submit(
            start, lambda _: left_queued(handoff, len(first)),
            after=handoff.settle if handoff else None,
        ).result()

    def replace_root_event(self, run_id: str, event: Event) -> bool:
        """The run's trigger event becomes ``event`` (``store.roots``)."""
        replace = partial(root_rows.replace, run_id=run_id, event=event)
        done: bool = self._db.writer.submit(replace).result()
        return done

    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        with self._db.read() as conn:
            return history.list_runs(conn, canvas, limit)

    def get_run(self, run_id: str) -> RunRecord:
        with self._db.read() as conn:
            return history.get_run(conn, run_id)

    # -- runs at scale and their recovery (store/run_list.py, store/recovery.py) --------
    def find_runs(self, where: RunFilter, limit: int, before: str | None = None) -> RunPage:
        with self._db.read() as conn:
            return run_list.find_runs(conn, where, limit, before)

    def run_ids(self, where: RunFilter, limit: int) -> tuple[list[str], int]:
        with self._db.read() as conn:
            return run_list.run_ids(conn, where, limit)

    def canvas_activity(self, canvas: str, since: datetime, now: datetime) -> Activity:
        with self._db.read() as conn:
            return run_list.canvas_activity(conn, canvas, since, now)

    def replay_batch(self, batch: str) -> list[RunRecord]:
        with self._db.read() as conn:
            return run_list.replay_batch(conn, batch)

    def start_replays(
        self, replays: list[tuple[RunRecord, list[NewExecution]]], batch: str | None,
        now: datetime,
    ) -> list[str]:
        start = partial(recovery.start_replays, replays=replays, batch=batch, now=now)
        started: list[str] = self._db.writer.submit(start, bool).result()
        return started

    def retry_execution(self, run_id: str, execution_id: str, now: datetime) -> RunRecord:
        retry = partial(recovery.retry_execution, run_id=run_id, execution_id=execution_id,
                        now=now)
        self._db.writer.submit(retry, lambda _: True).result()
        return self.get_run(run_id)

    # -- On Incident's catch-up poll (store/catch_up.py) ------------------------------------
    def catch_up_state(self, canvas: str, node: str) -> CatchUpState | None:
        with self._db.read() as conn:
            return catch_up_rows.state(conn, canvas, node)

    def note_catch_up_poll(self, canvas: str, node: str, since: datetime, polled_at: datetime,
                           found: int, error: str | None) -> None:
        note = partial(catch_up_rows.note_poll, canvas=canvas, node=node, since=since,
                       polled_at=polled_at, found=found, error=error)
        self._db.writer.submit(note).result()

    def claim_incident_change(self, canvas: str, node: str, incident_id: str,
                              updated_at: str, webhook_id: str, now: datetime) -> bool:
        """A webhook's claim on one change; False if the poll already ran it."""
        claim = partial(catch_up_rows.claim_for_webhook, canvas=canvas, node=node,
                        incident_id=incident_id, updated_at=updated_at,
                        webhook_id=webhook_id, now=now)
        claimed: bool = self._db.writer.submit(claim).result()
        return claimed

    def start_caught_up_run(self, canvas: str, node: str, incident_id: str, updated_at: str,
                            event: Event, first: list[NewExecution], now: datetime,
                            ) -> str | None:
        """The poll's run of one change, in the transaction that records the change;
        None if a webhook or another worker recorded it first."""
        handoff = self._handoff(now)

        def start(conn: Connection) -> str | None:
            if handoff is not None:
                handoff.reset()
            if not catch_up_rows.record_change(conn, canvas, node, incident_id, updated_at,
                                               catch_up_rows.POLL, now):
                return None
            version = canvas_rows.current_version(conn, canvas)
            run_id = work_queue.insert_run(conn, canvas, version, node, event, first, now,
                                      handoff=handoff)
            catch_up_rows.note_run(conn, canvas, node, incident_id, updated_at, run_id)
            return run_id

        return self._db.writer.submit(
            start, lambda run_id: run_id is not None and left_queued(handoff, len(first)),
            after=handoff.settle if handoff else None,
        ).result()

    # -- schedule triggers (store/schedules.py) --------------------------------------------
    def active_schedules(self) -> list[schedule_rows.ScheduleRecord]:
        """The schedules of canvases that are not paused."""
        with self._db.read() as conn:
            return schedule_rows.active(conn)

    def canvas_schedules(self, canvas: str) -> list[schedule_rows.ScheduleRecord]:
        with self._db.read() as conn:
            return schedule_rows.of_canvas(conn, canvas)

    def fire_schedule(
        self, canvas: str, node: str, due: datetime, event: Event,
        first: list[NewExecution], now: datetime,
    ) -> str | None:
        """Start the run of one due time; None if another worker already fired it."""
        handoff = self._handoff(now)

        def fire(conn: Connection) -> str | None:
            if handoff is not None:
                handoff.reset()
            if not schedule_rows.claim_due(conn, canvas, node, due, schedule_rows.FIRED, now):
                return None
            version = canvas_rows.current_version(conn, canvas)
            run_id = work_queue.insert_run(conn, canvas, version, node, event, first, now,
                                      handoff=handoff)
            schedule_rows.note(conn, canvas, node, due, schedule_rows.FIRED, run_id, now)
            return run_id

        return self._db.writer.submit(
            fire, lambda run_id: run_id is not None and left_queued(handoff, len(first)),
            after=handoff.settle if handoff else None,
        ).result()

    def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool:
        """Record that a missed due time was skipped; False if already recorded."""
        def skip(conn: Connection) -> bool:
            if not schedule_rows.claim_due(conn, canvas, node, due, schedule_rows.SKIPPED, now):
                return False
            schedule_rows.note(conn, canvas, node, due, schedule_rows.SKIPPED, None, now)
            return True

        return self._db.writer.submit(skip).result()
