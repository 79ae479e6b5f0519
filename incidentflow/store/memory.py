"""``InMemoryStore``: the ``Store`` port in memory, the SQL store's twin for tests and
for trying things out (``incidentflow.testing`` re-exports it).

Same behaviour as ``SqlStore``, held in plain records (``store.memory_rows``), and
composed of rooms like it: canvases, endpoints, deliveries and pauses
(``store.memory_canvases``), schedules (``store.memory_schedules``), runs and their
recovery (``store.memory_runs``), waits (``store.memory_waits``), the rate limit and the
guard's creates (``store.memory_limits``), the engine's half (``store.memory_work``,
``store.memory_queue``), integrations, tokens, secrets and retention
(``store.memory_admin``). The store behaviour suite (tests/store) runs on memory,
SQLite and PostgreSQL alike.

Nothing survives the process, and there is no other process: ``listen_for_work`` is
None and every call is atomic under one lock. Its async face (``aio``,
``store.inline``) makes the calls on the caller's loop, without a thread.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from incidentflow.store.async_port import AsyncStore
from incidentflow.store.inline import InlineStore
from incidentflow.store.memory_admin import MemoryAdmin
from incidentflow.store.memory_canvases import MemoryCanvases
from incidentflow.store.outcome_meter import OutcomeMeter

if TYPE_CHECKING:
    from incidentflow.store.node_roles import NodeRoles


class InMemoryStore(MemoryCanvases, MemoryAdmin):
    def __init__(self, roles: NodeRoles):
        """``roles`` says which nodes of a canvas get webhook endpoints and which are
        triggers (the registry; the store knows no components)."""
        super().__init__()
        self._roles = roles

    @property
    def aio(self) -> AsyncStore:
        return self._async_face

    @functools.cached_property
    def _async_face(self) -> InlineStore:
        """Calls made inline, on the caller's loop: a lock and plain records, no thread."""
        return InlineStore(self)

    def meter_outcomes(self, meter: OutcomeMeter) -> None:
        self._async_face.meter = meter

    def migrate(self) -> None:
        """Nothing to migrate: the tables are the records."""

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        self._attached = self._local_worker = None
