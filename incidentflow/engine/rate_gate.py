"""The create rate limit, on the worker's side: asked just before an action that
creates something elsewhere runs (``Component.creates``), never for other nodes, so
the claim/finish hot paths stay as they were.

The decision is the store's (``take_create_slot``: one atomic transaction, valid
across processes). Here: which figures apply, and the trip's one WARNING line and
metrics.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from incidentflow import metrics
from incidentflow.canvas import Node
from incidentflow.rate_limit import RateLimit
from incidentflow.settings import Settings
from incidentflow.store.async_port import AsyncStore
from incidentflow.store.port import ClaimedExecution

log = logging.getLogger(__name__)


def default_limit(settings: Settings) -> RateLimit:
    """The global figures, for nodes without their own ``rateLimit``."""
    return RateLimit(settings.create_rate_limit_max, settings.create_rate_limit_per_seconds)


def limit_of(node: Node, settings: Settings) -> RateLimit:
    return node.rate_limit or default_limit(settings)


class RateGate:
    def __init__(self, store: AsyncStore, settings: Settings, worker_id: str):
        self._store, self._settings, self._worker_id = store, settings, worker_id

    async def admit(
        self, job: ClaimedExecution, node: Node, config: dict[str, Any] | None, now: datetime
    ) -> bool:
        """Whether ``job`` may run now. When not, the store has held it (or the lease
        was lost and nothing was written)."""
        limit = limit_of(node, self._settings)
        admission = await self._store.take_create_slot(
            job.id, self._worker_id, job.canvas, node.name, limit, config, now)
        if admission.tripped_now:
            metrics.RATE_LIMIT_TRIPS.inc()
            log.warning(
                "rate limit tripped: canvas=%s node=%s went past %s; its executions are "
                "held until a person resumes the node (incidentflow node resume %s %s "
                "--release or --discard)", job.canvas, node.name, limit.describe(),
                job.canvas, node.name,
                extra={"canvas": job.canvas, "node": node.name, "outcome": "tripped"},
            )
        if admission.held:
            metrics.HELD_EXECUTIONS.inc()
        return admission.admitted
