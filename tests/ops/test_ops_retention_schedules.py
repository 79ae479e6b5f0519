"""Retention of schedule_fires: old due times go, but each schedule's latest stays, so
that due time still cannot fire twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from ops_support import manual_canvas

from incidentflow.events import Event
from incidentflow.store.retention import prune
from incidentflow.store.schema import schedule_fires

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def fires(store) -> set[tuple[str, datetime]]:
    with store.engine.connect() as conn:
        return {(row.node, row.due_at) for row in conn.execute(sa.select(schedule_fires))}


def test_old_due_times_go_but_each_schedules_latest_stays(store):
    store.save_canvas(manual_canvas(), "", [], days_ago(400))
    for due in (60, 50, 40, 1):  # "Often": one recent due time
        assert store.skip_schedule("manual", "Often", days_ago(due), days_ago(due))
    for due in (90, 45):  # "Rarely": its latest is old too
        assert store.skip_schedule("manual", "Rarely", days_ago(due), days_ago(due))

    pruned = prune(store, NOW, days=30, batch_size=2)

    assert pruned.schedule_fires == 4
    assert fires(store) == {("Often", days_ago(1)), ("Rarely", days_ago(45))}
    # The kept latest still guards its due time: a second worker records nothing.
    assert not store.skip_schedule("manual", "Rarely", days_ago(45), NOW)
    fired = Event("schedule.fired", {"scheduled_for": "x", "fired_at": "y"})
    assert store.fire_schedule("manual", "Often", days_ago(1), fired, [], NOW) is None


def test_recent_due_times_stay(store):
    store.save_canvas(manual_canvas(), "", [], days_ago(400))
    for due in (3, 2, 1):
        store.skip_schedule("manual", "Often", days_ago(due), days_ago(due))
    assert prune(store, NOW, days=30).schedule_fires == 0
    assert len(fires(store)) == 3
