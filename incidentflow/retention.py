"""Retention policy: how long runs, deliveries and browser sessions are kept, and the
prune loop that asks the store to delete what is older, one short batch at a time.

Delivery rows double as the dedupe memory (unique endpoint + webhook-id), and
incident.io (Svix) retries a delivery for about a day: whatever the window, delivery
rows younger than ``DEDUPE_KEEP`` (48 h) stay, so a late retry is still a duplicate.
Running runs are never pruned, however old. The deleting itself is the store's
(``Store.prune_batch``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentflow.errors import ConfigurationError
from incidentflow.store.records import Pruned

if TYPE_CHECKING:
    from incidentflow.store.port import Store

DEFAULT_RETENTION_DAYS = 30
DEDUPE_KEEP = timedelta(hours=48)
# Browser sessions last 12 h; their rows are pruned once surely expired.
SESSION_KEEP = timedelta(hours=48)
BATCH_SIZE = 500


def retention_days(env: Mapping[str, str] | None = None) -> int:
    """``INCIDENTFLOW_RETENTION_DAYS`` (default 30; 0 keeps everything forever)."""
    env = os.environ if env is None else env
    raw = (env.get("INCIDENTFLOW_RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)).strip()
    try:
        days = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"INCIDENTFLOW_RETENTION_DAYS must be a whole number of days, got {raw!r}"
        ) from None
    if days < 0:
        raise ConfigurationError("INCIDENTFLOW_RETENTION_DAYS must be 0 (keep) or more")
    return days


def cutoffs(now: datetime, days: float) -> tuple[datetime, datetime]:
    """(runs finished before, deliveries received before) for a window of ``days``."""
    runs_before = now - timedelta(days=days)
    return runs_before, min(runs_before, now - DEDUPE_KEEP)


def prune(store: Store, now: datetime, days: float, batch_size: int = BATCH_SIZE,
          between: Callable[[], None] | None = None) -> Pruned:
    """Delete everything the window allows, one short transaction per batch.
    ``days`` 0 keeps everything. ``between`` runs after each batch (e.g. a pause)."""
    if days <= 0:
        return Pruned()
    runs_before, deliveries_before = cutoffs(now, days)
    total = Pruned()
    while True:
        batch: Pruned = store.prune_batch(runs_before, deliveries_before, batch_size,
                                          now - SESSION_KEEP)
        total += batch
        if not batch.full(batch_size):
            return total
        if between is not None:
            between()
