"""``Slots``: how many executions one worker runs at once, and the executions the store
hands over to it (``store.handoff``: leased in the transaction that enqueued them).

Claims and hand-overs both take slots: a claim reserves what it asks for and gives back
what it did not get; the store reserves one per execution it leases to this worker,
then hands them over on the worker's event loop, or gives them back when the
transaction did not commit. This is the ``LocalWorker`` of the port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from incidentflow.store.port import ClaimedExecution

Starter = Callable[[list[ClaimedExecution]], None]


class Slots:
    def __init__(self, worker_id: str, concurrency: int, lease_seconds: float):
        self.id, self.concurrency, self._lease_seconds = worker_id, concurrency, lease_seconds
        self._lock = threading.Lock()  # the store reserves from its writer thread
        self._taken = 0  # slots running or reserved (claims, hand-overs)
        self._start: Starter | None = None

    @property
    def lease_seconds(self) -> float:
        return self._lease_seconds

    def reserve(self, wanted: int) -> int:
        """Take up to ``wanted`` free slots (thread-safe); returns how many."""
        with self._lock:
            granted = max(0, min(wanted, self.concurrency - self._taken))
            self._taken += granted
        return granted

    def unreserve(self, count: int) -> None:
        with self._lock:
            self._taken -= count

    def open(self, start: Starter) -> None:
        """Executions handed over from now on are given to ``start``."""
        self._start = start

    def close(self) -> None:
        """A hand-over still in flight now gives its slots back; its executions stay
        leased to this worker until it releases its leases."""
        self._start = None

    def hand_over(self, jobs: list[ClaimedExecution]) -> None:
        """On the worker's loop, after the commit that leased ``jobs`` to it."""
        start = self._start
        if start is None:  # stopped meanwhile: the leases expire and are taken over
            self.unreserve(len(jobs))
            return
        start(jobs)
