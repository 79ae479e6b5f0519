"""``MemoryWaits``: the waiting steps in memory — ``wait``/approval waits
(``store.waits``), ``waitForEvent`` waits and their offers (``store.event_waits``),
cancelling a run, and On Incident's catch-up rows (``store.catch_up``) — the SQL
rooms' twins for ``InMemoryStore``, which extends this class.

The same rules as in SQL: a waiting execution is a queued execution due at its
timeout; a wait is settled once (a decision, the timeout, a cancel: the first wins);
an event arriving on a canvas is offered to the open waits it may match (by key) and
makes them due now. The texts are stated again here because the SQL modules cannot be
imported without SQLAlchemy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from incidentflow.errors import Conflict, NotFound
from incidentflow.event_match import KEYLESS, event_key
from incidentflow.events import Event
from incidentflow.store.codec import new_id
from incidentflow.store.memory_limits import MemoryLimits
from incidentflow.store.memory_rows import ExecutionRow, copied, storable
from incidentflow.store.port import CatchUpState, EventOffer, EventWait, NewExecution
from incidentflow.wait_records import Wait, Waiting

TIMED_OUT: dict[str, Any] = {"timeout": True}
CANCELLED: dict[str, Any] = {"cancelled": True}
CANCELLED_MESSAGE = "cancelled by {who} while the run was waiting; it never ran"
OPEN_STATES = ("queued", "running")
KEYLESS_LIMIT = 1000  # as store.event_waits: keyless waits offered one event, oldest first
POLL = "poll"  # a change's row recorded by the catch-up poll (store.catch_up)
CHANGE_KEEP = timedelta(hours=48)


@dataclass
class _Change:
    source: str
    recorded_at: datetime
    run_id: str | None = None


class MemoryWaits(MemoryLimits):
    def __init__(self) -> None:
        super().__init__()
        self._waits: dict[str, Wait] = {}
        self._event_waits: dict[str, EventWait] = {}
        self._offers: dict[str, list[EventOffer]] = {}
        self._catch_up: dict[tuple[str, str], CatchUpState] = {}
        self._changes: dict[tuple[str, str, str, str], _Change] = {}

    # -- waiting steps (store.waits) ---------------------------------------------------
    def begin_wait(self, execution_id: str, worker_id: str, waiting: Waiting,
                   resolved_config: dict[str, Any] | None, now: datetime) -> bool:
        storable(resolved_config, waiting.detail)
        with self._lock:
            row = self._leased(execution_id, worker_id)
            if row is None:
                return False
            self._requeue(row, waiting.until, resolved_config)
            if execution_id not in self._waits:
                run = self._t.runs[row.run_id]
                self._waits[execution_id] = Wait(execution_id, row.run_id, run.canvas,
                                                 row.node, copied(waiting), now)
        return True

    def _requeue(self, row: ExecutionRow, until: datetime | None,
                 resolved_config: dict[str, Any] | None) -> None:
        """Queued again until ``until``; the attempt it was claimed for is handed back."""
        row.state, row.lease_owner, row.lease_expires_at = "queued", None, None
        row.next_attempt_at, row.attempts = until, row.attempts - 1
        row.resolved_config, row.error, row.error_details = copied(resolved_config), None, None

    def take_wait(self, execution_id: str, now: datetime) -> Wait | None:
        with self._lock:
            found = self._waits.get(execution_id)
            if found is None or found.settled_at is not None:
                return copied(found)
            until = found.waiting.until
            if until is not None and until <= now:
                found = replace(found, settled_at=until, outcome=dict(TIMED_OUT))
                self._waits[execution_id] = found
            return copied(found)

    def settle_wait(self, execution_id: str, outcome: dict[str, Any], now: datetime) -> bool:
        storable(outcome)
        with self._lock:
            found = self._waits.get(execution_id)
            if found is None or found.settled_at is not None:
                return False
            if found.waiting.until is not None and found.waiting.until <= now:
                return False
            self._waits[execution_id] = replace(found, settled_at=now, outcome=copied(outcome))
            row = self._t.executions.get(execution_id)
            if row is not None and row.state == "queued":
                row.next_attempt_at = now
        self._committed(None, 1)
        return True

    def run_waits(self, run_id: str) -> list[Wait]:
        with self._lock:
            found = [w for w in self._waits.values() if w.run_id == run_id]
        return copied(sorted(found, key=lambda w: (w.began_at, w.execution_id)))

    def open_waits(self, kind: str | None = None, limit: int = 200,
                   canvas: str | None = None, key: str | None = None) -> list[Wait]:
        with self._lock:
            found = [w for w in self._waits.values() if w.settled_at is None
                     and (kind is None or w.waiting.kind == kind)
                     and (canvas is None or w.canvas == canvas)
                     and (key is None or w.waiting.key == key)]
        return copied(sorted(found, key=lambda w: (w.began_at, w.execution_id))[:limit])

    def cancel_run(self, run_id: str, who: str, now: datetime) -> None:
        with self._lock:
            run = self._t.runs.get(run_id)
            if run is None:
                raise NotFound(f"run {run_id!r} does not exist")
            if run.state != "running":
                raise Conflict(f"run {run_id!r} has already ended ({run.state}): only a run "
                               "still running or waiting can be cancelled")
            run.state, run.finished_at, run.pending = "cancelled", now, 0
            for row in self._t.executions.values():
                if row.run_id == run_id and row.state in OPEN_STATES:
                    row.state, row.finished_at = "cancelled", now
                    row.lease_owner = row.lease_expires_at = row.next_attempt_at = None
                    row.error = CANCELLED_MESSAGE.format(who=who)
                    row.error_details = None
            for execution_id, wait in list(self._waits.items()):
                if wait.run_id == run_id and wait.settled_at is None:
                    self._waits[execution_id] = replace(
                        wait, settled_at=now, outcome={**CANCELLED, "by": who})

    def waiting_counts(self, now: datetime) -> dict[str, int]:
        counts: Counter[str] = Counter()
        with self._lock:
            open_ids = set()
            for wait in self._waits.values():
                if wait.settled_at is None:
                    counts[wait.waiting.kind] += 1
                    open_ids.add(wait.execution_id)
            for row in self._t.executions.values():
                if (row.state == "queued" and row.next_attempt_at is not None
                        and row.next_attempt_at > now and row.id not in open_ids):
                    counts["retry" if row.attempts > 0 else "wait"] += 1
        return dict(counts)

    # -- waitForEvent (store.event_waits) ------------------------------------------------
    def event_wait(self, execution_id: str,
                   offers: int = 0) -> tuple[EventWait | None, list[EventOffer]]:
        with self._lock:
            wait = self._event_waits.get(execution_id)
            if wait is None or offers <= 0:
                return wait, []
            return wait, copied(self._offers.get(execution_id, [])[:offers])

    def event_offers(self, execution_id: str, limit: int) -> list[EventOffer]:
        with self._lock:
            return copied(self._offers.get(execution_id, [])[:limit])

    def park_for_event(self, wait: EventWait, worker_id: str, seen: list[str],
                       resolved_config: dict[str, Any] | None,
                       now: datetime) -> datetime | None:
        storable(resolved_config)
        with self._lock:
            row = self._leased(wait.execution_id, worker_id)
            if row is None:
                return None
            self._requeue(row, wait.timeout_at, resolved_config)
            dropped = set(seen)
            left = [o for o in self._offers.get(wait.execution_id, []) if o.id not in dropped]
            self._offers[wait.execution_id] = left
            self._event_waits.setdefault(wait.execution_id, wait)
            due = wait.timeout_at
            if left:
                due = row.next_attempt_at = now
        return due

    def end_event_wait(self, execution_id: str) -> None:
        with self._lock:
            self._event_waits.pop(execution_id, None)
            self._offers.pop(execution_id, None)

    def event_waits_of_run(self, run_id: str) -> list[EventWait]:
        with self._lock:
            found = [w for w in self._event_waits.values() if w.run_id == run_id
                     and self._t.executions[w.execution_id].state in OPEN_STATES]
        return sorted(found, key=lambda w: (w.began_at, w.execution_id))

    def _offer(self, canvas: str, event: Event, now: datetime) -> int:
        """Inside the lock, as a run starts: offer its trigger event to the open waits
        of ``canvas`` it may match, and make them due now. Returns how many."""
        offered = 0
        keyless = 0
        for wait in sorted(self._event_waits.values(), key=lambda w: w.began_at):
            row = self._t.executions.get(wait.execution_id)
            if (wait.canvas != canvas or wait.event_type != event.type or row is None
                    or row.state not in OPEN_STATES):
                continue
            if wait.match_path == KEYLESS:
                keyless += 1
                if keyless > KEYLESS_LIMIT:
                    continue
            elif event_key(event.as_dict(), wait.match_path) != wait.match_key:
                continue
            self._offers.setdefault(wait.execution_id, []).append(
                EventOffer(new_id(), copied(event), now))
            if row.state == "queued":
                row.next_attempt_at = now
            offered += 1
        if offered and self._on_work is not None:
            self._on_work()  # the waits it made due run now
        return offered

    def _insert_run(self, canvas: str, version: int, node: str, event: Event,
                    first: list[NewExecution], now: datetime, handoff: Any = None,
                    run_id: str | None = None) -> str:
        run_id = super()._insert_run(canvas, version, node, event, first, now, handoff, run_id)
        self._offer(canvas, event, now)
        return run_id

    # -- On Incident's catch-up poll (store.catch_up) -------------------------------------
    def catch_up_state(self, canvas: str, node: str) -> CatchUpState | None:
        with self._lock:
            return self._catch_up.get((canvas, node))

    def note_catch_up_poll(self, canvas: str, node: str, since: datetime, polled_at: datetime,
                           found: int, error: str | None) -> None:
        with self._lock:
            self._catch_up[(canvas, node)] = CatchUpState(canvas, node, since, polled_at,
                                                          found, error)
            self._changes = {k: v for k, v in self._changes.items()
                             if not (k[:2] == (canvas, node)
                                     and v.recorded_at < polled_at - CHANGE_KEEP)}

    def claim_incident_change(self, canvas: str, node: str, incident_id: str,
                              updated_at: str, webhook_id: str, now: datetime) -> bool:
        with self._lock:
            key = (canvas, node, incident_id, updated_at)
            found = self._changes.get(key)
            if found is None:
                self._changes[key] = _Change(webhook_id, now)
                return True
            return found.source != POLL

    def start_caught_up_run(self, canvas: str, node: str, incident_id: str, updated_at: str,
                            event: Event, first: list[NewExecution], now: datetime,
                            ) -> str | None:
        storable(event.data, *(item.input.data for item in first))
        handoff = self._handoff(now)
        with self._lock:
            key = (canvas, node, incident_id, updated_at)
            if key in self._changes:
                return None
            version = self._current_version(canvas)
            run_id = self._insert_run(canvas, version, node, event, first, now, handoff)
            self._changes[key] = _Change(POLL, now, run_id)
        self._committed(handoff, len(first))
        return run_id
