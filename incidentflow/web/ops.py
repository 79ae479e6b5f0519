"""Operational endpoints and the retention task.

- ``GET /metrics``: Prometheus text of this process (``incidentflow.metrics``). Open by
  default, like most exporters: it holds only counters, histograms and the queue depth,
  with fixed label values (no names, URLs or secrets). With a metrics token configured
  it requires ``Authorization: Bearer <token>``. Either way, keep it off the public
  internet at the proxy (see docs/deployment.md).
- ``GET /readyz``: 200 when the database answers, else 503 with a reason. ``/healthz``
  stays the liveness check of the process.
- :class:`Pruner`: deletes what the retention window allows, hourly, in short batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow import metrics, retention
from incidentflow.store.port import Store
from incidentflow.web.auth import bearer_token

log = logging.getLogger(__name__)
PRUNE_INTERVAL_SECONDS = 3600.0
PRUNE_PAUSE_SECONDS = 0.05  # between batches: let webhook writes through


def ops_routes(store: Store, clock: Callable[[], datetime],
               metrics_token: str | None = None) -> list[Route]:
    async def metrics_endpoint(request: Request) -> Response:
        if metrics_token and not _token_ok(request, metrics_token):
            return JSONResponse({"error": "missing or invalid bearer token"}, status_code=401,
                                headers={"www-authenticate": 'Bearer realm="metrics"'})
        registry = metrics.scrape_registry(store, clock, await metrics.other_processes())
        body = await anyio.to_thread.run_sync(metrics.render, registry)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    async def readyz(request: Request) -> Response:
        try:
            await store.aio.ping()
        except Exception as exc:  # any driver error: not ready, never a 500
            log.warning("readiness check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "not ready", "reason": "database unavailable"},
                                status_code=503)
        return JSONResponse({"status": "ready"})

    return [Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"])]


def _token_ok(request: Request, expected: str) -> bool:
    presented = bearer_token(request.headers.get("authorization")) or ""
    return hmac.compare_digest(presented.encode(), expected.encode())


class Pruner:
    """Runs ``retention.prune`` every ``interval`` seconds while the app lives.

    Every process may run one: the deletes are idempotent, and each batch is its own
    short transaction, so concurrent pruners cost a little duplicate work at most."""

    def __init__(self, store: Store, days: int, clock: Callable[[], datetime],
                 interval: float = PRUNE_INTERVAL_SECONDS):
        self.store, self.days, self.clock, self.interval = store, days, clock, interval
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.days > 0:
            self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def run_once(self) -> retention.Pruned:
        # The whole batched prune runs in a thread, pausing between batches so ingest
        # gets the write lock in between.
        prune = partial(retention.prune, self.store, self.clock(), self.days,
                        between=partial(time.sleep, PRUNE_PAUSE_SECONDS))
        total: retention.Pruned = await anyio.to_thread.run_sync(prune)
        metrics.PRUNED.labels(kind="runs").inc(total.runs)
        metrics.PRUNED.labels(kind="deliveries").inc(total.deliveries)
        metrics.PRUNED.labels(kind="sessions").inc(total.sessions)
        metrics.PRUNED.labels(kind="created_objects").inc(total.created_objects)
        metrics.PRUNED.labels(kind="schedule_fires").inc(total.schedule_fires)
        if total.total:
            log.info("retention: pruned %d runs and %d deliveries", total.runs,
                     total.deliveries, extra={"outcome": "pruned"})
        return total

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a failed prune waits for the next round
                log.exception("retention: pruning failed")
            await asyncio.sleep(self.interval)
