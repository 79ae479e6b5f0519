"""``MemoryLimits``: the create rate limit and the self-trigger guard's creates in
memory, the twins of ``store.node_limits`` and ``store.guards``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from incidentflow.rate_limit import RateLimit
from incidentflow.store.memory_queue import DISCARD_MESSAGE
from incidentflow.store.memory_rows import (
    CreatedRow,
    NodeLimitRow,
)
from incidentflow.store.memory_work import MemoryWork
from incidentflow.store.port import (
    Admission,
    NodeLimitState,
    NodeResumed,
    SelfCreated,
)


class MemoryLimits(MemoryWork):
    # -- the self-trigger guard's creates -----------------------------------------------
    def begin_create(self, canvas: str, kind: str, execution_id: str, run_id: str,
                     now: datetime) -> None:
        with self._lock:
            self._t.created[execution_id] = CreatedRow(canvas, kind, run_id, "in_flight", now)

    def forget_create(self, execution_id: str) -> None:
        with self._lock:
            found = self._t.created.get(execution_id)
            if found is not None and found.state == "in_flight":
                del self._t.created[execution_id]

    def self_created(self, canvas: str, kinds: frozenset[str], object_id: str,
                     live_since: datetime) -> SelfCreated:
        created_by, in_flight = None, set()
        with self._lock:
            for execution_id, row in self._t.created.items():
                if row.canvas != canvas or row.kind not in kinds:
                    continue
                if row.state == "created" and row.object_id == object_id:
                    created_by = row.run_id
                elif row.state == "in_flight" and row.started_at >= live_since:
                    in_flight.add(execution_id)
        return SelfCreated(created_by, frozenset(in_flight))

    # -- the create rate limit -----------------------------------------------------------
    def take_create_slot(self, execution_id: str, worker_id: str, canvas: str, node: str,
                         limit: RateLimit, resolved_config: dict[str, Any] | None,
                         now: datetime) -> Admission:
        with self._lock:
            row = self._leased(execution_id, worker_id)
            if row is None:  # the lease was lost: its new holder decides
                return Admission(admitted=False)
            if row.admitted_at is not None:  # a retry, or released by a person
                return Admission(admitted=True)
            window = self._t.node_limits.setdefault(
                (canvas, node), NodeLimitRow(now - timedelta(seconds=limit.per)))
            if window.tripped_at is None:
                if window.window_start <= now - timedelta(seconds=limit.per):
                    window.window_start, window.window_count = now, 0
                if window.window_count < limit.max:
                    window.window_count += 1
                    row.admitted_at = now
                    return Admission(admitted=True)
            tripped_now = window.tripped_at is None
            window.tripped_at = window.tripped_at or now
            self._end(row, "held", held_message(node, limit), None, resolved_config, now)
            row.finished_at, row.next_attempt_at = None, None
            row.attempts -= 1  # the attempt it was claimed for is handed back: it never ran
            return Admission(admitted=False, held=True, tripped_now=tripped_now)

    def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        with self._lock:
            held: dict[tuple[str, str], int] = {}
            for row in self._t.executions.values():
                run = self._t.runs[row.run_id]
                if row.state == "held" and canvas in (None, run.canvas):
                    held[(run.canvas, row.node)] = held.get((run.canvas, row.node), 0) + 1
            found = []
            for (name, node), window in sorted(self._t.node_limits.items()):
                if canvas not in (None, name):
                    continue
                started = window.window_start if window.window_count else None
                found.append(NodeLimitState(name, node, started, window.window_count,
                                            window.tripped_at, held.pop((name, node), 0)))
        return found + [NodeLimitState(c, n, None, 0, None, count)
                        for (c, n), count in sorted(held.items())]

    def resume_node(self, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
        with self._lock:
            self._current_version(canvas)  # NotFound for an unknown canvas
            window = self._t.node_limits.get((canvas, node))
            if window is not None:
                window.tripped_at, window.window_start, window.window_count = None, now, 0
            held = sorted((row for row in self._t.executions.values()
                           if row.state == "held" and row.node == node
                           and self._t.runs[row.run_id].canvas == canvas),
                          key=lambda r: r.id)
            for row in held:
                if release:
                    row.state, row.next_attempt_at, row.admitted_at = "queued", now, now
                    row.error = None
                else:
                    row.state, row.finished_at, row.error = "discarded", now, DISCARD_MESSAGE
                    self._settle_run(row.run_id, 0, now)
        if release:
            self._committed(None, len(held))
            return NodeResumed(released=len(held))
        return NodeResumed(discarded=len(held))


def held_message(node: str, limit: RateLimit) -> str:
    return (f"node {node!r} went past its rate limit ({limit.describe()}) and tripped; "
            "this execution is held until a person resumes the node (release or discard)")
