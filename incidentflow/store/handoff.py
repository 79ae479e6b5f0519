"""Hand new executions straight to the worker in this process, leased at insert time.

Without it, an execution enqueued by a delivery (or by a finishing upstream execution)
waits for a wakeup, a claim transaction and its round trip before it starts. With it,
the transaction that enqueues the execution also leases it to the local worker, if
that worker has a free slot, and the worker receives it right after the commit: no
claim, no query. Executions with a concurrency key are never handed over (their order
is the claim's business), nor those that wait for a time (``not_before``), nor
anything when no worker is attached or none is free.

A handed-over execution is an ordinary lease: if this process dies before running it,
the lease expires and another worker takes it over, attempt 2, same idempotency key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incidentflow.events import Event
from incidentflow.store.port import ClaimedExecution, LocalWorker, NewExecution

__all__ = ["Handoff", "LocalWorker", "RunContext"]


@dataclass(frozen=True)
class RunContext:
    run_id: str
    canvas: str
    canvas_version: int
    root: Event


@dataclass
class Handoff:
    """The executions one store call leases to the local worker. Reset at the start
    of each attempt of the job (a batch may be redone without a failed batch-mate)."""

    worker: LocalWorker
    now: datetime
    jobs: list[ClaimedExecution] = field(default_factory=list)
    _reserved: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            if self._reserved:
                self.worker.unreserve(self._reserved)
            self._reserved = 0
            self.jobs = []

    def lease(self, item: NewExecution) -> tuple[str, datetime] | None:
        """(owner, expiry) to insert ``item`` already running, or None: queue it."""
        if (item.concurrency_key is not None or item.not_before is not None
                or self.worker.reserve(1) < 1):
            return None
        with self._lock:
            self._reserved += 1
        return self.worker.id, self.now + timedelta(seconds=self.worker.lease_seconds)

    def add(
        self, run: RunContext, execution_id: str, item: NewExecution, idempotency_key: str,
        expires: datetime,
    ) -> None:
        self.jobs.append(
            ClaimedExecution(
                id=execution_id, run_id=run.run_id, canvas=run.canvas,
                canvas_version=run.canvas_version, node=item.node, input=item.input,
                attempt=1, idempotency_key=idempotency_key, root=run.root,
                lease_expires_at=expires,
            )
        )

    def settle(self, committed: bool) -> None:
        """After the commit: hand the leased executions over; if the transaction did not
        commit, they do not exist: give their slots back."""
        if not committed:
            self.reset()
            return
        with self._lock:
            jobs, self.jobs, self._reserved = self.jobs, [], 0
        if jobs:
            self.worker.hand_over(jobs)
