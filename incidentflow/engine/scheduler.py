"""Fires ``schedule`` triggers: runs inside every worker, ticking at most every second.

Each tick reads the schedules of canvases that are not paused (one small query; none
when no canvas has a schedule) and, for each, the latest due time at or before now
that it has not fired or skipped yet. Found on time (within ``ON_TIME_SECONDS``, or
within the node's ``catchUpMinutes`` if larger), it fires; found later (everything
was down), it is skipped, logged and recorded as the node's last skip. Earlier missed
times are not fired either. Which worker fires a time does not matter: the store
records each due time once (``store.schedules``), so any number of workers and
restarts give one run per due time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio

from incidentflow.components.schedule import FIRED, latest_due, next_times
from incidentflow.engine.router import first_executions
from incidentflow.events import Event, iso
from incidentflow.store.port import ScheduleRecord, Store

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
# A due time found this late is still on time (a slow tick, a busy database), not missed.
ON_TIME_SECONDS = 30.0


class Scheduler:
    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self._store, self._clock = store.aio, clock

    async def run(self) -> None:
        """Tick until cancelled; a failing tick is logged and the next one tries again."""
        while True:
            sleep = TICK_SECONDS
            try:
                sleep = await self.tick()
            except Exception as exc:
                log.warning("schedule tick failed: %s", exc)
            await anyio.sleep(sleep)

    async def tick(self) -> float:
        """Fire or skip what is due; returns how long to sleep (≤ a tick) until the
        next due time."""
        schedules = await self._store.active_schedules()
        now = self._clock()
        soonest = TICK_SECONDS
        for schedule in schedules:
            decision = due_now(schedule, now)
            if decision is not None:
                await self._act(schedule, *decision, now)
            upcoming = next_times(schedule.cron, schedule.timezone, now, 1)[0]
            soonest = min(soonest, (upcoming - now).total_seconds())
        return max(0.01, soonest)

    async def _act(self, schedule: ScheduleRecord, due: datetime, fire: bool,
                   now: datetime) -> None:
        if fire:
            await self._fire(schedule, due, now)
            return
        recorded = await self._store.skip_schedule(schedule.canvas, schedule.node, due, now)
        if recorded:
            log.warning("schedule %s/%s: due time %s was missed (%s late) and skipped; "
                        "catchUpMinutes is %d", schedule.canvas, schedule.node, iso(due),
                        now - due, schedule.catch_up_minutes)

    async def _fire(self, schedule: ScheduleRecord, due: datetime, now: datetime) -> None:
        canvas = (await self._store.get_canvas(schedule.canvas)).canvas
        event = Event(FIRED, {"scheduled_for": iso(due), "fired_at": iso(now)}, iso(now))
        first = first_executions(canvas, schedule.node, event)
        run_id = await self._store.fire_schedule(schedule.canvas, schedule.node, due, event,
                                                 first, now)
        if run_id is not None:
            log.info("schedule %s/%s fired for %s: run %s", schedule.canvas, schedule.node,
                     iso(due), run_id)


def due_now(schedule: ScheduleRecord, now: datetime) -> tuple[datetime, bool] | None:
    """(the due time to act on, fire it?) or None when nothing new is due."""
    anchor = max(schedule.since, schedule.last_due_at or schedule.since)
    due = latest_due(schedule.cron, schedule.timezone, now)
    if due <= anchor:
        return None
    window = max(ON_TIME_SECONDS, schedule.catch_up_minutes * 60.0)
    return due, now - due <= timedelta(seconds=window)
