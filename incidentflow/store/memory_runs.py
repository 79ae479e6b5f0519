"""``MemoryRuns``: runs in memory — started by hand, read one by one and listed,
and at scale with their recovery: filtered pages of runs,
the 24-hour chart, replays linked to the run they repeat, retrying a failed execution,
replacing a run's trigger event — the twins of ``store.run_list``, ``store.recovery``
and ``store.roots`` for ``InMemoryStore``, which extends this class.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from incidentflow.errors import Conflict, NotFound
from incidentflow.events import Event
from incidentflow.store.memory_rows import RunRow, copied, storable
from incidentflow.store.memory_waits import MemoryWaits
from incidentflow.store.port import (
    Activity,
    ExecutionRecord,
    NewExecution,
    RunFilter,
    RunPage,
    RunRecord,
)


class MemoryRuns(MemoryWaits):
    def start_run(self, canvas: str, node: str, event: Event, first: list[NewExecution],
                  now: datetime) -> str:
        storable(event.data)
        handoff = self._handoff(now)
        with self._lock:
            run_id = self._insert_run(canvas, self._current_version(canvas), node, event, first,
                                      now, handoff)
        self._committed(handoff, len(first))
        return run_id

    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        with self._lock:
            runs = sorted((r for r in self._t.runs.values() if r.canvas == canvas),
                          key=lambda r: r.id, reverse=True)[:limit]
            return [self._run(run.id, with_executions=False) for run in runs]

    def get_run(self, run_id: str) -> RunRecord:
        with self._lock:
            if run_id not in self._t.runs:
                raise NotFound(f"run {run_id!r} does not exist")
            return self._run(run_id, with_executions=True)

    def _run(self, run_id: str, with_executions: bool) -> RunRecord:
        run = self._t.runs[run_id]
        root = copied(self._t.events[run.root_event_id].event)
        executions = self._executions(run_id) if with_executions else []
        replays = (sorted(r.id for r in self._t.runs.values() if r.replay_of == run_id)
                   if with_executions else [])
        return RunRecord(run.id, run.canvas, run.canvas_version, run.trigger_node, run.state,
                         root, run.created_at, run.finished_at, executions, run.replay_of,
                         run.replay_batch, replays)

    def _executions(self, run_id: str) -> list[ExecutionRecord]:
        emitted: dict[str, list[dict[str, Any]]] = {}
        for event in sorted(self._t.events.values(), key=lambda e: e.id):
            if event.run_id == run_id and event.execution_id is not None:
                emitted.setdefault(event.execution_id, []).append(
                    {"channel": event.channel, "event": event.event.as_dict()})
        rows = sorted((e for e in self._t.executions.values() if e.run_id == run_id),
                      key=lambda e: e.id)
        return [ExecutionRecord(
            e.id, e.run_id, e.node, e.state, e.attempts, e.idempotency_key,
            copied(self._t.events[e.input_event_id].event), copied(e.resolved_config),
            emitted.get(e.id, []), e.error, copied(e.error_details), e.created_at,
            e.started_at, e.finished_at, e.next_attempt_at, e.attempt_started_at,
            copied(e.history)) for e in rows]

    def _matching(self, where: RunFilter) -> list[RunRow]:
        """Runs matching ``where``, by id (inside the lock)."""
        with_node = ({e.run_id for e in self._t.executions.values() if e.node == where.node}
                     if where.node else set())
        return sorted((r for r in self._t.runs.values()
                       if r.canvas == where.canvas
                       and (not where.states or r.state in where.states)
                       and (not where.node or r.id in with_node)
                       and (where.since is None or r.created_at >= where.since)
                       and (where.until is None or r.created_at < where.until)
                       and (not where.ids or r.id in where.ids)), key=lambda r: r.id)

    def find_runs(self, where: RunFilter, limit: int, before: str | None = None) -> RunPage:
        with self._lock:
            matching = self._matching(where)
            older = [r for r in reversed(matching) if before is None or r.id < before]
            found = [self._run(r.id, with_executions=False) for r in older[:limit]]
            more = len(older) > limit
            return RunPage(found, len(matching), found[-1].id if more and found else None)

    def run_ids(self, where: RunFilter, limit: int) -> tuple[list[str], int]:
        with self._lock:
            matching = self._matching(where)
            return [r.id for r in matching[:limit]], len(matching)

    def canvas_activity(self, canvas: str, since: datetime, now: datetime) -> Activity:
        first = int(since.timestamp() // 3600)
        count = int(now.timestamp() // 3600) - first + 1
        hours = [datetime.fromtimestamp((first + i) * 3600, tz=since.tzinfo)
                 for i in range(count)]
        deliveries: dict[str, list[int]] = defaultdict(lambda: [0] * count)
        runs: dict[str, list[int]] = defaultdict(lambda: [0] * count)
        with self._lock:
            endpoints = {e.id for e in self._t.endpoints.values() if e.canvas == canvas}
            for d in self._t.deliveries:
                if d.endpoint_id in endpoints and d.received_at >= since:
                    _count(deliveries, d.outcome, d.received_at, first, count)
            for r in self._t.runs.values():
                if r.canvas == canvas and r.created_at >= since:
                    _count(runs, r.state, r.created_at, first, count)
        return Activity(hours, dict(deliveries), dict(runs))

    def start_replays(self, replays: list[tuple[RunRecord, list[NewExecution]]],
                      batch: str | None, now: datetime) -> list[str]:
        """Queued, not handed to a worker (as ``store.recovery.start_replays``)."""
        storable(*(original.root.data for original, _ in replays))
        started = []
        with self._lock:
            versions: dict[str, int] = {}
            for original, first in replays:
                if original.canvas not in versions:
                    versions[original.canvas] = self._current_version(original.canvas)
                run_id = self._insert_run(original.canvas, versions[original.canvas],
                                          original.trigger_node, original.root, first, now)
                run = self._t.runs[run_id]
                run.replay_of, run.replay_batch = original.id, batch
                started.append(run_id)
        self._committed(None, sum(len(first) for _, first in replays))
        return started

    def retry_execution(self, run_id: str, execution_id: str, now: datetime) -> RunRecord:
        with self._lock:
            row = self._t.executions.get(execution_id)
            if row is None or row.run_id != run_id:
                raise NotFound(f"execution {execution_id!r} of run {run_id!r} does not exist")
            if row.state != "failed":
                raise Conflict(f"execution {execution_id!r} is {row.state}: only a failed "
                               "execution can be retried")
            row.state, row.next_attempt_at, row.finished_at = "queued", now, None
            row.error = row.error_details = None
            row.admitted_at = None  # counted again by the create rate limit
            run = self._t.runs[run_id]
            run.pending, run.state, run.finished_at = run.pending + 1, "running", None
        self._committed(None, 1)
        return self.get_run(run_id)

    def replay_batch(self, batch: str) -> list[RunRecord]:
        with self._lock:
            return [self._run(r.id, with_executions=False)
                    for r in sorted(self._t.runs.values(), key=lambda r: r.id)
                    if r.replay_batch == batch]

    def replace_root_event(self, run_id: str, event: Event) -> bool:
        storable(event.data)
        with self._lock:
            run = self._t.runs.get(run_id)
            if run is None:
                return False
            self._t.events[run.root_event_id].event = copied(event)
            return True


def _count(series: dict[str, list[int]], key: Any, when: datetime, first: int,
           count: int) -> None:
    index = int(when.timestamp() // 3600) - first
    if 0 <= index < count:
        series[key][index] += 1
