"""The schedule trigger with an injected clock, on SQLite and PostgreSQL: one run per
due time across racing workers, missed times skipped (recorded) or caught up, paused
canvases quiet, and the in-process worker firing it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from time_fixtures import canvas, make_worker, running, until

from incidentflow.engine.scheduler import Scheduler
from incidentflow.events import utcnow
from incidentflow.store.sql import SqlStore

SAVED = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = SAVED

    def __call__(self) -> datetime:
        return self.now


def scheduled(name: str = "s", cron: str = "* * * * *", **extra) -> dict:
    return {
        "name": name,
        "nodes": [{"name": "Every", "type": "schedule",
                   "configuration": {"cron": cron, **extra}},
                  {"name": "Then", "type": "noop"}],
        "edges": [{"from": "Every", "to": "Then"}],
    }


def save(store, source: dict, now: datetime = SAVED) -> None:
    store.save_canvas(canvas(source), "", [], now)


def fired_for(store, name: str = "s") -> list[str]:
    return sorted(run.root.data["scheduled_for"] for run in store.list_runs(name))


async def test_two_racing_workers_fire_each_due_time_once(store, database_url):
    save(store, scheduled())
    other = SqlStore(database_url, store._roles)  # another worker process's store
    clock = Clock()
    try:
        first, second = Scheduler(store, clock), Scheduler(other, clock)
        clock.now = datetime(2026, 3, 1, 12, 1, 0, 200_000, tzinfo=UTC)
        for _ in range(3):
            await asyncio.gather(first.tick(), second.tick())
        assert fired_for(store) == ["2026-03-01T12:01:00Z"]
        clock.now += timedelta(minutes=1)
        await asyncio.gather(first.tick(), second.tick(), first.tick())
        assert fired_for(store) == ["2026-03-01T12:01:00Z", "2026-03-01T12:02:00Z"]
    finally:
        other.close()
    run = store.list_runs("s")[0]
    assert run.trigger_node == "Every"
    assert store.get_run(run.id).root.type == "schedule.fired"
    data = store.get_run(run.id).root.data
    assert set(data) == {"scheduled_for", "fired_at"} and data["fired_at"].endswith("Z")


async def test_nothing_fires_before_the_first_due_time_after_saving(store):
    save(store, scheduled())
    await Scheduler(store, Clock(SAVED + timedelta(seconds=20))).tick()
    assert fired_for(store) == []


async def test_a_missed_time_is_skipped_and_recorded(store, caplog):
    save(store, scheduled(cron="0 * * * *"))  # hourly
    late = Clock(datetime(2026, 3, 1, 13, 5, tzinfo=UTC))  # 13:00 missed by 5 minutes
    with caplog.at_level(logging.WARNING, "incidentflow.engine.scheduler"):
        await Scheduler(store, late).tick()
        await Scheduler(store, late).tick()
    assert fired_for(store) == []
    [record] = store.canvas_schedules("s")
    assert record.last_outcome == "skipped"
    assert record.last_due_at == datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "s/Every" in skipped[0] and "2026-03-01T13:00:00Z" in skipped[0]


async def test_a_missed_time_within_catch_up_fires_once(store):
    save(store, scheduled(cron="0 * * * *", catchUpMinutes=10))
    late = Clock(datetime(2026, 3, 1, 13, 5, tzinfo=UTC))
    await Scheduler(store, late).tick()
    await Scheduler(store, late).tick()
    assert fired_for(store) == ["2026-03-01T13:00:00Z"]
    [record] = store.canvas_schedules("s")
    assert record.last_outcome == "fired" and record.last_run_id == store.list_runs("s")[0].id


async def test_a_paused_canvas_does_not_fire(store):
    save(store, scheduled())
    store.pause_canvas("s", SAVED)
    await Scheduler(store, Clock(datetime(2026, 3, 1, 12, 1, 0, 100_000, tzinfo=UTC))).tick()
    assert fired_for(store) == []


async def test_a_schedule_in_a_time_zone_fires_at_its_local_time(store):
    save(store, scheduled(cron="0 9 * * *", timezone="Europe/Paris"))
    utc_eight = Clock(datetime(2026, 3, 2, 8, 0, 1, tzinfo=UTC))  # 9:00 in Paris (winter)
    await Scheduler(store, utc_eight).tick()
    assert fired_for(store) == ["2026-03-02T08:00:00Z"]


async def test_the_in_process_worker_fires_the_schedule_and_runs_the_canvas(store, tmp_path):
    real = utcnow()
    minute = real.replace(second=0, microsecond=0) + timedelta(minutes=1)
    offset = minute - real - timedelta(seconds=1.5)  # a due time 1.5 s from now

    def clock() -> datetime:
        return utcnow() + offset

    save(store, scheduled(), clock())
    async with running(make_worker(store, tmp_path, clock=clock)):
        runs = await until(lambda: [r for r in store.list_runs("s") if r.state == "succeeded"],
                           timeout=5, what="the scheduled run")
    assert len(runs) == 1
    run = store.get_run(runs[0].id)
    assert [e.node for e in run.executions] == ["Then"]
    fired_at = datetime.fromisoformat(run.root.data["fired_at"].replace("Z", "+00:00"))
    assert timedelta(0) <= fired_at - minute <= timedelta(seconds=1)
