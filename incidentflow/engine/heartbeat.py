"""``Heartbeat``: the leases of the executions running in this worker, extended while
they run (a third of the lease at a time), so a slow call is never taken over by
another worker. A lease lost meanwhile is not extended (``extend_leases``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import anyio

from incidentflow.store.async_port import AsyncStore

# The worker's log, as before this was split out of it: operators filter on its name.
log = logging.getLogger("incidentflow.engine.worker")
HEARTBEAT_FRACTION = 1 / 3  # extend the lease when a third of it has passed


class Heartbeat:
    def __init__(self, store: AsyncStore, worker_id: str, lease_seconds: float,
                 clock: Callable[[], datetime]):
        self._store, self._worker_id = store, worker_id
        self._lease, self._clock = lease_seconds, clock
        self.running: set[str] = set()  # execution ids whose lease we hold

    async def run(self) -> None:
        """Beat until cancelled."""
        while True:
            await anyio.sleep(max(0.05, self._lease * HEARTBEAT_FRACTION))
            running = list(self.running)
            if not running:
                continue
            try:
                await self._store.extend_leases(self._worker_id, running, self._clock(),
                                                self._lease)
            except Exception as exc:  # the next beat tries again; the lease has margin
                log.warning("extending %d leases failed: %s", len(running), exc)
