"""The engine's worker: claim -> resolve -> execute (no transaction open) -> record.

Every store call runs in a thread; the component runs on the event loop with no
database transaction open (Lesson 4). Outcomes:

- success: ``finish`` (emitted events + downstream executions, one transaction);
- ``RetryableError``: ``retry_later`` with backoff (``engine.retry``), the same
  idempotency key, until the retry limit, then ``fail``;
- ``PermanentError``, ``ExpressionError``, any other error: ``fail`` at once, with
  the message (unexpected errors are logged with their traceback).

A worker whose lease was lost (it ran too long, another worker took over) writes
nothing: the store refuses its outcome.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
import httpx

from incidentflow import logging as secret_logging
from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import Component, Emission, ExecutionContext
from incidentflow.crypto import SecretBox
from incidentflow.engine.resolve import masked, resolve_config, uses_expressions
from incidentflow.engine.retry import RetryPolicy, next_attempt_at
from incidentflow.engine.router import plan
from incidentflow.engine.wakeup import Subscription, Wakeup
from incidentflow.errors import (
    ExecutionError,
    ExpressionError,
    IncidentflowError,
    PermanentError,
)
from incidentflow.events import Event, utcnow
from incidentflow.expressions import scope_for
from incidentflow.registry import Registry
from incidentflow.settings import Settings
from incidentflow.store.port import ClaimedExecution, Store

log = logging.getLogger(__name__)
T = TypeVar("T")
_CANVAS_CACHE_LIMIT = 256


class StopSignal(Protocol):
    """``asyncio.Event`` or ``anyio.Event``."""

    def is_set(self) -> bool: ...
    async def wait(self) -> Any: ...


class Worker:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        box: SecretBox,
        http: httpx.AsyncClient,
        settings: Settings,
        wakeup: Wakeup | None = None,
        *,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        policy: RetryPolicy | None = None,
    ):
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._store, self._registry, self._box, self._http = store, registry, box, http
        self._settings, self._clock = settings, clock
        self._wakeup = wakeup or Wakeup()
        self._policy = policy or RetryPolicy.from_settings(settings)
        self._concurrency = max(1, settings.worker_concurrency)
        self._canvases: dict[tuple[str, int], Canvas] = {}
        self._busy = 0

    # -- loops ---------------------------------------------------------------------------
    async def drain(self) -> int:
        """Run everything due now (and what it enqueues), then return how many ran."""
        total = 0
        while claimed := await self._claim(self._concurrency):
            async with anyio.create_task_group() as group:
                for job in claimed:
                    group.start_soon(self.process, job)
            total += len(claimed)
        return total

    async def run(self, stop: StopSignal) -> None:
        """Claim and run work until ``stop`` is set; then finish what was started."""
        subscription = self._wakeup.subscribe()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_poke_when_set, stop, subscription)
                while not stop.is_set():
                    if not await self._fill(group, subscription):
                        await subscription.wait()
        finally:
            subscription.close()
            with anyio.CancelScope(shield=True):
                await self._db(self._store.release, self.id, self._clock())

    async def _fill(self, group: anyio.abc.TaskGroup, subscription: Subscription) -> bool:
        """Claim into free slots; True if every slot was filled (more may be due)."""
        free = self._concurrency - self._busy
        if free <= 0:
            return False
        try:
            claimed = await self._claim(free)
        except Exception:
            log.exception("claiming work failed; retrying after the poll interval")
            return False
        for job in claimed:
            self._busy += 1
            group.start_soon(self._process_in_slot, job, subscription)
        return len(claimed) == free

    async def _process_in_slot(self, job: ClaimedExecution, subscription: Subscription) -> None:
        try:
            await self.process(job)
        finally:
            self._busy -= 1
            subscription.poke()  # a slot is free: claim again

    async def _claim(self, limit: int) -> list[ClaimedExecution]:
        lease = self._settings.lease_seconds
        return await self._db(self._store.claim, self.id, self._clock(), lease, limit)

    # -- one execution -------------------------------------------------------------------
    async def process(self, job: ClaimedExecution) -> None:
        """Run one claimed execution and record its outcome. Never raises."""
        config: dict[str, Any] | None = None
        try:
            canvas, node, component = await self._locate(job)
            resolved = await self._resolve(job, node, component)
            config = masked(component, resolved)
            emissions = await self._execute(job, node, component, resolved)
            emitted = plan(canvas, node.name, emissions)
            done = await self._db(self._store.finish, job.id, self.id, config, emitted,
                                  self._clock())
            if not done:
                log.warning("execution %s: lease lost, its outcome was discarded", job.id)
        except Exception as exc:
            await self._record_failure(job, exc, config)

    async def _locate(self, job: ClaimedExecution) -> tuple[Canvas, Node, Component]:
        canvas = await self._canvas(job.canvas, job.canvas_version)
        try:
            node = canvas.node(job.node)
        except KeyError:
            raise PermanentError(f"canvas {job.canvas!r} has no node {job.node!r}") from None
        return canvas, node, self._registry.component(node.type)

    async def _canvas(self, name: str, version: int) -> Canvas:
        key = (name, version)
        if key not in self._canvases:  # versions never change: cache them
            if len(self._canvases) >= _CANVAS_CACHE_LIMIT:
                self._canvases.clear()
            record = await self._db(self._store.get_canvas, name, version)
            self._canvases[key] = record.canvas
        return self._canvases[key]

    async def _resolve(
        self, job: ClaimedExecution, node: Node, component: Component
    ) -> dict[str, Any]:
        nodes: dict[str, Event] = {}
        if uses_expressions(node, component):  # skip a query for plain configurations
            nodes = await self._db(self._store.node_events, job.run_id)
        scope = scope_for(job.root, job.input, nodes, job.run_id, job.canvas)
        return resolve_config(node, component, scope)

    async def _execute(
        self, job: ClaimedExecution, node: Node, component: Component, config: dict[str, Any]
    ) -> list[Emission]:
        ctx = ExecutionContext(
            canvas=job.canvas, node=node.name, run_id=job.run_id, execution_id=job.id,
            idempotency_key=job.idempotency_key, attempt=job.attempt, input=job.input,
            config=config, http=self._http, now=self._clock(),
            integration=await self._integration(node),
        )
        return list(await component.execute(ctx))

    async def _integration(self, node: Node) -> dict[str, Any] | None:
        if node.integration is None:
            return None
        record = await self._db(self._store.get_integration, node.integration)
        plain = {name: self._box.decrypt(value) for name, value in record.secrets_encrypted.items()}
        for value in plain.values():
            secret_logging.register_secret(value)
        return {**record.config, **plain}

    # -- failures ------------------------------------------------------------------------
    async def _record_failure(
        self, job: ClaimedExecution, exc: Exception, config: dict[str, Any] | None
    ) -> None:
        now = self._clock()
        message, details = describe(exc)
        try:
            when = next_attempt_at(job.attempt, exc, now, self._policy)
            if when is not None:
                log.info("execution %s attempt %d: %s; retry at %s", job.id, job.attempt,
                         message, when.isoformat())
                await self._db(self._store.retry_later, job.id, self.id, message, details,
                               config, when, now)
                return
            await self._db(self._store.fail, job.id, self.id, message, details, config, now)
        except Exception:
            # The lease will expire and another worker will try again.
            log.exception("execution %s: recording its failure failed", job.id)

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args))


def describe(exc: Exception) -> tuple[str, dict[str, Any] | None]:
    """The message and details stored for a failed attempt."""
    if isinstance(exc, ExecutionError):  # RetryableError and PermanentError too
        return str(exc), exc.details or None
    if isinstance(exc, ExpressionError):
        return str(exc), {"node": exc.node, "field": exc.field}
    if isinstance(exc, IncidentflowError):
        return str(exc), None
    log.error("unexpected error in a component", exc_info=exc)
    return f"{type(exc).__name__}: {exc}", {"unexpected": True}


async def _poke_when_set(stop: StopSignal, subscription: Subscription) -> None:
    await stop.wait()
    subscription.poke()
