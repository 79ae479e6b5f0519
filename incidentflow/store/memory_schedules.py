"""``MemorySchedules``: schedule triggers in memory — kept in step with saved canvases,
one fire per due time, started with its run — the twin of ``store.schedules``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from incidentflow.canvas import Canvas, Node
from incidentflow.events import Event
from incidentflow.store.memory_runs import MemoryRuns
from incidentflow.store.port import (
    NewExecution,
    ScheduleRecord,
)

SCHEDULE_TYPE = "schedule"


class MemorySchedules(MemoryRuns):
    # -- schedule triggers -----------------------------------------------------------
    def active_schedules(self) -> list[ScheduleRecord]:
        with self._lock:
            return [s for key, s in sorted(self._t.schedules.items())
                    if self._t.canvases[key[0]].paused_at is None]

    def canvas_schedules(self, canvas: str) -> list[ScheduleRecord]:
        with self._lock:
            return [s for key, s in sorted(self._t.schedules.items()) if key[0] == canvas]

    def fire_schedule(self, canvas: str, node: str, due: datetime, event: Event,
                      first: list[NewExecution], now: datetime) -> str | None:
        handoff = self._handoff(now)
        with self._lock:
            if (canvas, node, due) in self._t.schedule_fires:
                return None  # another worker fired it
            version = self._current_version(canvas)
            run_id = self._insert_run(canvas, version, node, event, first, now, handoff)
            self._note(canvas, node, due, "fired", run_id, now)
        self._committed(handoff, len(first))
        return run_id

    def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool:
        with self._lock:
            if (canvas, node, due) in self._t.schedule_fires:
                return False
            self._note(canvas, node, due, "skipped", None, now)
            return True

    def _note(self, canvas: str, node: str, due: datetime, outcome: str, run_id: str | None,
              now: datetime) -> None:
        self._t.schedule_fires[(canvas, node, due)] = run_id
        current = self._t.schedules.get((canvas, node))
        if current is not None:
            self._t.schedules[(canvas, node)] = _replace(
                current, last_due_at=due, last_outcome=outcome, last_run_id=run_id, last_at=now)

    def _sync_schedules(self, canvas: str, nodes: list[Node], now: datetime) -> None:
        """The canvas's schedule nodes; a changed cron or zone starts afresh from now."""
        wanted = {node.name: node for node in nodes}
        for key in [k for k in self._t.schedules if k[0] == canvas and k[1] not in wanted]:
            del self._t.schedules[key]
        for name, node in wanted.items():
            config = node.configuration
            cron, zone = str(config["cron"]), str(config.get("timezone", "UTC"))
            catch_up = int(config.get("catchUpMinutes", 0))
            old = self._t.schedules.get((canvas, name))
            if old is None:
                self._t.schedules[(canvas, name)] = ScheduleRecord(
                    canvas, name, cron, zone, catch_up, now, None, None, None, None)
                continue
            since = old.since if (old.cron, old.timezone) == (cron, zone) else now
            self._t.schedules[(canvas, name)] = _replace(
                old, cron=cron, timezone=zone, catch_up_minutes=catch_up, since=since)

    # -- which nodes are schedules (the store's own node type) ------------------------
    def _schedule_nodes(self, canvas: Canvas) -> list[Node]:
        return [n for n in canvas.nodes if n.type == SCHEDULE_TYPE]



def _replace(record: Any, **changes: Any) -> Any:
    return replace(record, **changes)
