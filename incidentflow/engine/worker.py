"""The engine's worker: claim -> resolve -> execute (no transaction open) -> record.

Every store call runs in a thread; the component runs on the event loop with no
database transaction open (docs/design-rules.md,
"No transaction around outside calls"). Outcomes:

- success: ``finish`` (emitted events + downstream executions, one transaction);
- ``RetryableError``: ``retry_later`` with backoff (``engine.retry``), the same
  idempotency key, until the retry limit, then ``fail``;
- ``PermanentError``, ``ExpressionError``, any other error: ``fail`` at once, with
  the message (unexpected errors are logged with their traceback). An expression over
  its budget (``BudgetError``, an ``ExpressionError``) is permanent too: it would go
  over again on every attempt.

Expressions that are more than plain lookups are evaluated in the expression pool
(``engine.resolve``), so a slow template never holds the event loop.

A worker whose lease was lost (it ran too long, another worker took over) writes
nothing: the store refuses its outcome.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
import httpx

from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import (
    Component,
    Emission,
    ExecutionContext,
    WaitBegins,
    Waiting,
)
from incidentflow.crypto import SecretBox
from incidentflow.engine.catch_up import CatchUpPoller
from incidentflow.engine.event_wait import EventWaits, waits_for_event
from incidentflow.engine.rate_gate import RateGate
from incidentflow.engine.resolve import (
    masked,
    reads_nodes,
    resolve_config,
    resolve_config_async,
    resolves_inline,
    uses_expressions,
)
from incidentflow.engine.retry import RetryPolicy, next_attempt_at
from incidentflow.engine.router import plan
from incidentflow.engine.scheduler import Scheduler
from incidentflow.engine.wakeup import Subscription, Wakeup
from incidentflow.errors import (
    ExecutionError,
    ExpressionError,
    IncidentflowError,
    PermanentError,
    StoreUnavailable,
)
from incidentflow.events import Event, utcnow
from incidentflow.expression_budget import BudgetError, metered
from incidentflow.expression_pool import off_loop
from incidentflow.expressions import scope_for
from incidentflow.inbox import Inbox, answered, inbox
from incidentflow.registry import Registry
from incidentflow.secrets_service import (
    NO_SECRETS,
    SecretCache,
    SecretValues,
    masked_emissions,
    named_secrets,
    reads_secrets,
)
from incidentflow.self_trigger import SETTLED
from incidentflow.settings import Settings
from incidentflow.store.port import ClaimedExecution, Emitted, Store, WorkListener

log = logging.getLogger(__name__)
T = TypeVar("T")
_CANVAS_CACHE_LIMIT = 256
_Starter = Callable[[list[ClaimedExecution]], None]
LISTEN_POLL_SECONDS = 5.0
INTEGRATION_CACHE_SECONDS = 5.0
HEARTBEAT_FRACTION = 1 / 3  # extend the lease when a third of it has passed


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
        self._budget = settings.expression_budget
        self._concurrency = max(1, settings.worker_concurrency)
        # Store calls wait in threads for the group-commit writer: one thread per slot
        # (AnyIO's shared pool of 40 would cap how many finishes share a commit), and a
        # plain executor, whose hand-off costs a fraction of ``anyio.to_thread``'s.
        self._threads = ThreadPoolExecutor(self._concurrency + 4, "incidentflow-store")
        weakref.finalize(self, self._threads.shutdown, wait=False)
        self._canvases: dict[tuple[str, int], Canvas] = {}
        self._slots_lock = threading.Lock()
        self._taken = 0  # slots running or reserved (claims, hand-overs)
        self._handed: tuple[Inbox, _Starter] | None = None
        self._integrations: dict[str, tuple[float, dict[str, Any]]] = {}
        self._secrets = SecretCache(INTEGRATION_CACHE_SECONDS)
        self._running: set[str] = set()  # execution ids whose lease we hold
        self._tasks: set[asyncio.Task[None]] = set()
        self._plans: dict[tuple[str, int, str], _NodePlan] = {}
        self._rate_gate = RateGate(store, settings, self.id)
        self._event_waits = EventWaits(store, self._db, self._wakeup, self._budget, self.id)

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
        """Claim and run work until ``stop`` is set; then finish what was started and
        hand back any lease still held. A heartbeat extends the leases of running
        executions meanwhile, so a slow call is never taken over by another worker.
        While running, the store may hand new executions straight to this worker
        (``store.handoff``) instead of waiting for a claim."""
        subscription = self._wakeup.subscribe()
        listener = self._listen()
        try:
            async with anyio.create_task_group() as beating:
                beating.start_soon(self._heartbeat)
                beating.start_soon(Scheduler(self._store, self._clock).run)
                beating.start_soon(
                    CatchUpPoller(self._store, self._box, self._http, self._clock).run)
                beating.start_soon(_poke_when_set, stop, subscription)
                try:
                    self._attach(subscription)
                    await self._look_ahead()  # work queued for later before we started
                    while not stop.is_set():
                        if not await self._fill(subscription):
                            if self._wakeup.take_passed(self._clock()):
                                # It came due while that claim ran (or we woke a hair
                                # early): claim again now. ``next_due`` only names later
                                # work, so sleeping here would wait out a whole poll.
                                await self._look_ahead()
                                continue
                            await subscription.wait(self._wait_seconds())
                    self._detach()  # stopping: take nothing new, finish what runs
                finally:
                    await self._join()
                beating.cancel_scope.cancel()  # every execution ended: nothing to extend
        finally:
            self._detach()
            subscription.close()
            if listener is not None:
                await anyio.to_thread.run_sync(listener.stop)
            with anyio.CancelScope(shield=True):
                await self._db(self._store.release, self.id, self._clock())

    # -- slots and hand-over (store.handoff.LocalWorker) ----------------------------------
    @property
    def lease_seconds(self) -> float:
        return self._settings.lease_seconds

    def reserve(self, wanted: int) -> int:
        with self._slots_lock:
            granted = max(0, min(wanted, self._concurrency - self._taken))
            self._taken += granted
        return granted

    def unreserve(self, count: int) -> None:
        with self._slots_lock:
            self._taken -= count

    def hand_over(self, jobs: list[ClaimedExecution]) -> None:
        """From the store's writer thread, after the commit that leased ``jobs`` to us."""
        target = self._handed
        if target is None:  # stopped meanwhile: the leases expire and are taken over
            self.unreserve(len(jobs))
            return
        box, start = target
        try:
            box.put(start, jobs)
        except RuntimeError:  # the loop is closed
            self.unreserve(len(jobs))

    def _attach(self, subscription: Subscription) -> None:
        def start(jobs: list[ClaimedExecution]) -> None:
            for job in jobs:
                self._start(job, subscription)

        self._handed = (inbox(), start)
        self._store.attach_worker(self)

    def _detach(self) -> None:
        # A hand-over still in flight now gives its slots back; its executions stay
        # leased to us until ``release`` (end of ``run``) hands them back to the queue.
        self._handed = None
        self._store.detach_worker(self)

    def _listen(self) -> WorkListener | None:
        """Work committed by other processes wakes us (PostgreSQL LISTEN/NOTIFY); the
        poll then is only a fallback, so it can be slow."""
        listener = self._store.listen_for_work(self._wakeup.notify, self._wakeup.due)
        if listener is not None:
            self._wakeup.poll_seconds = max(self._wakeup.poll_seconds, LISTEN_POLL_SECONDS)
        return listener

    def _wait_seconds(self) -> float:
        """Until the next poll, or sooner when queued work (a retry, a wait) is due."""
        poll = self._wakeup.poll_seconds
        due = self._wakeup.next_due
        if due is None:
            return poll
        return max(0.0, min(poll, (due - self._clock()).total_seconds()))

    async def _look_ahead(self) -> None:
        """Learn when the next queued work becomes due (one indexed query): when the
        worker starts and each time a known due time has passed."""
        try:
            when = await self._db(self._store.next_due, self._clock())
        except Exception as exc:  # the poll still finds it, a little later
            log.warning("reading when queued work is next due failed: %s", exc)
            return
        if when is not None:
            self._wakeup.due(when, wake=False)

    async def _heartbeat(self) -> None:
        lease = self._settings.lease_seconds
        while True:
            await anyio.sleep(max(0.05, lease * HEARTBEAT_FRACTION))
            running = list(self._running)
            if not running:
                continue
            try:
                await self._db(self._store.extend_leases, self.id, running, self._clock(),
                               lease)
            except Exception as exc:  # the next beat tries again; the lease has margin
                log.warning("extending %d leases failed: %s", len(running), exc)

    def _start(self, job: ClaimedExecution, subscription: Subscription) -> None:
        # A plain task, not a task group's: spawning is a large share of a fast
        # execution's cost, and ``_join`` gives the same structure (wait, or cancel
        # and wait) when the worker stops.
        task = asyncio.get_running_loop().create_task(self._process_in_slot(job, subscription))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _join(self) -> None:
        """Wait for every execution started; if cancelled meanwhile (a stop that could
        not wait), cancel them and still wait: each records its outcome (shielded), so
        nothing it did is lost before the leases are handed back."""
        try:
            while self._tasks:
                await asyncio.wait(set(self._tasks))
        except BaseException:
            for task in self._tasks:
                task.cancel()
            with anyio.CancelScope(shield=True):
                while self._tasks:
                    await asyncio.wait(set(self._tasks))
            raise

    async def _fill(self, subscription: Subscription) -> bool:
        """Claim into free slots; True if every slot was filled (more may be due)."""
        free = self.reserve(self._concurrency)
        if free <= 0:
            return False
        try:
            claimed = await self._claim(free)
        except Exception:
            self.unreserve(free)
            log.exception("claiming work failed; retrying after the poll interval")
            return False
        self.unreserve(free - len(claimed))
        for job in claimed:
            self._start(job, subscription)
        return len(claimed) == free

    async def _process_in_slot(self, job: ClaimedExecution, subscription: Subscription) -> None:
        freed = False

        def free_slot() -> None:  # once the component returned: its slot may serve the
            nonlocal freed       # downstream executions its finish hands over
            if not freed:
                freed = True
                self.unreserve(1)

        try:
            await self.process(job, free_slot)
        finally:
            free_slot()
            subscription.poke()  # a slot is free: claim again

    async def _claim(self, limit: int) -> list[ClaimedExecution]:
        lease = self._settings.lease_seconds
        claimed: list[ClaimedExecution] = await answered(
            self._store.claim_then, self.id, self._clock(), lease, limit)
        return claimed

    # -- one execution -------------------------------------------------------------------
    async def process(
        self, job: ClaimedExecution, executed: Callable[[], None] | None = None
    ) -> None:
        """Run one claimed execution and record its outcome. Never raises.
        ``executed`` is called when the component returned, before the outcome is
        recorded."""
        self._running.add(job.id)
        try:
            await self._process(job, executed or _nothing)
        finally:
            self._running.discard(job.id)

    async def _process(self, job: ClaimedExecution, executed: Callable[[], None]) -> None:
        config: dict[str, Any] | None = None
        values = NO_SECRETS  # what to mask in anything stored: set when the node reads them
        creates: str | None = None  # the kind of object this action opens, if any
        try:
            node_plan = await self._plan(job)
            node, component = node_plan.node, node_plan.component
            if node_plan.static is not None:  # nothing to render: resolved once per version
                resolved, config = _fresh(node_plan.static), node_plan.static_masked
            else:
                if node_plan.reads_secrets:
                    values = await self._secret_values(node_plan.secret_names)
                resolved = await self._resolve(job, node_plan, values)
                config = values.mask(masked(component, resolved))
            if component.creates is not None and not await self._admitted(job, node, config):
                executed()
                return
            if component.creates is not None:
                creates = component.creates
                await self._begin_create(job, creates)
            if waits_for_event(component):  # rows in the store, not a call (engine.event_wait)
                waited = await self._event_waits.step(job, node, resolved, config, self._clock())
                if waited is None:  # still waiting: queued again, nothing more to record
                    executed()
                    return
                emissions = waited
            else:
                emissions = await self._execute(job, node, component, resolved)
            executed()
            if node_plan.reads_secrets:
                emissions = masked_emissions(emissions, values)
            job = await self._rerooted(job, emissions)
            if node_plan.keyed:  # concurrency keys are templates: budgeted, off the loop
                emitted = await off_loop(self._metered_plan, node_plan, node, emissions, job)
            else:
                emitted = plan(node_plan.canvas, node.name, emissions, job.root)
            if creates is not None:
                emitted = _with_created_ids(component, emitted)
            done = await self._finish(job, config, emitted)
            if done:
                self._note_waits(emissions)
            if done and waits_for_event(component):
                await self._event_waits.ended(job)
            if not done:
                log.warning("execution %s: lease lost (or its run was cancelled), its "
                            "outcome was discarded", job.id)
            elif creates is not None and not any(e.created_id for e in emitted):
                await self._forget_create(job)
            elif creates is not None:
                SETTLED.notify()  # deliveries waiting for this create look again now
        except WaitBegins as begins:  # a waiting step (approval): not an outcome yet
            executed()
            waiting = begins.waiting  # shown to people: no secret value in it
            await self._begin_wait(job, config, replace(
                waiting, summary=values.mask(waiting.summary),
                detail=values.mask(waiting.detail)))
        except Exception as exc:
            executed()
            await self._record_failure(job, exc, config, values)
            if creates is not None:
                await self._forget_create(job)

    async def _begin_wait(
        self, job: ClaimedExecution, config: dict[str, Any] | None, waiting: Waiting
    ) -> None:
        """The step waits (store.waits): its slot is free at once, its execution queued
        until the wait is settled or its time comes; we wake for that time (other
        processes by the NOTIFY of the same transaction)."""
        try:
            begun = await self._db(self._store.begin_wait, job.id, self.id, waiting, config,
                                   self._clock())
        except Exception as exc:  # as a failure to record: the lease expires, it runs again
            log.warning("execution %s: recording its wait failed: %s", job.id, exc)
            return
        if not begun:
            log.warning("execution %s: lease lost, its wait was not recorded", job.id)
        elif waiting.until is not None:
            self._wakeup.due(waiting.until)

    async def _rerooted(self, job: ClaimedExecution, emissions: list[Emission]) -> ClaimedExecution:
        """A trigger's first step that completed its event (``Emission.root``) makes it
        the run's trigger event, stored before the finish enqueues anything that reads
        it; in its own transaction, after the outside call."""
        new_root = next((e.event for e in emissions if e.root), None)
        if new_root is None:
            return job
        await self._db(self._store.replace_root_event, job.run_id, new_root)
        return replace(job, root=new_root)

    def _note_waits(self, emissions: list[Emission]) -> None:
        """Wake for executions enqueued for later (the ``wait`` step) when they are due.
        Other processes learn it from the finish's NOTIFY (``store.notify``)."""
        for emission in emissions:
            if emission.not_before is not None:
                self._wakeup.due(emission.not_before)

    def _metered_plan(self, node_plan: _NodePlan, node: Node, emissions: list[Emission],
                      job: ClaimedExecution) -> list[Emitted]:
        with metered(self._budget):
            return plan(node_plan.canvas, node.name, emissions, job.root)

    async def _admitted(
        self, job: ClaimedExecution, node: Node, config: dict[str, Any] | None
    ) -> bool:
        """The create rate limit (``engine.rate_gate``): only for actions that create
        something elsewhere. False: the store held the execution (or the lease was
        lost), and there is nothing more to record."""
        admitted: bool = await self._db(self._rate_gate.admit, job, node, config,
                                        self._clock())
        return admitted

    async def _finish(
        self, job: ClaimedExecution, config: dict[str, Any] | None, emitted: list[Emitted]
    ) -> bool:
        """Record success, awaited through the loop's inbox: no thread to wait in, one
        wakeup per committed batch. ``job`` lets the store hand the downstream
        executions to this worker at once."""
        done: bool = await answered(
            self._store.finish_then, job.id, self.id, config, emitted, self._clock(), job)
        return done

    async def _plan(self, job: ClaimedExecution) -> _NodePlan:
        key = (job.canvas, job.canvas_version, job.node)
        found = self._plans.get(key)
        if found is not None:
            return found
        canvas = await self._canvas(job.canvas, job.canvas_version)
        try:
            node = canvas.node(job.node)
        except KeyError:
            raise PermanentError(f"canvas {job.canvas!r} has no node {job.node!r}") from None
        component = self._registry.component(node.type)
        static = None
        if not uses_expressions(node, component):
            static = resolve_config(node, component, {})
        if len(self._plans) >= _CANVAS_CACHE_LIMIT * 8:
            self._plans.clear()
        found = _NodePlan(canvas, node, component, static,
                          masked(component, static) if static is not None else None,
                          static is None and reads_nodes(node, component),
                          static is not None or resolves_inline(node, component),
                          any(n.concurrency_key is not None for n in canvas.nodes),
                          static is None and reads_secrets(node, component),
                          named_secrets(node, component) if static is None else frozenset())
        self._plans[key] = found
        return found

    async def _canvas(self, name: str, version: int) -> Canvas:
        key = (name, version)
        if key not in self._canvases:  # versions never change: cache them
            if len(self._canvases) >= _CANVAS_CACHE_LIMIT:
                self._canvases.clear()
            record = await self._db(self._store.get_canvas, name, version)
            self._canvases[key] = record.canvas
        return self._canvases[key]

    async def _resolve(
        self, job: ClaimedExecution, node_plan: _NodePlan, values: SecretValues
    ) -> dict[str, Any]:
        nodes: dict[str, Event] = {}
        if node_plan.reads_nodes:  # a query: only when a template reads ``nodes``
            nodes = await self._db(self._store.node_events, job.run_id)
        scope = scope_for(job.root, job.input, nodes, job.run_id, job.canvas)
        if node_plan.reads_secrets:
            scope["secrets"] = values.by_name
        return await resolve_config_async(node_plan.node, node_plan.component, scope,
                                          self._budget, inline=node_plan.inline)

    async def _secret_values(self, wanted: frozenset[str]) -> SecretValues:
        """Every secret, decrypted; cached like integrations, so a node that reads
        secrets costs a query and decryptions at most every few seconds (or when it
        names one the cached copy lacks)."""
        return await self._secrets.get(
            partial(self._db, self._secrets.load, self._store, self._box), wanted)

    async def _execute(
        self, job: ClaimedExecution, node: Node, component: Component, config: dict[str, Any]
    ) -> list[Emission]:
        now = self._clock()
        ctx = ExecutionContext(
            canvas=job.canvas, node=node.name, run_id=job.run_id, execution_id=job.id,
            idempotency_key=job.idempotency_key, attempt=job.attempt, input=job.input,
            config=config, http=self._http, now=now,
            integration=await self._integration(node),
            # A waiting step learns how its wait was settled (a query only for those).
            waited=(await self._db(self._store.take_wait, job.id, now)
                    if component.waits is not None else None),
        )
        return list(await component.execute(ctx))

    async def _integration(self, node: Node) -> dict[str, Any] | None:
        """The node's integration configuration, secrets decrypted. Cached briefly: a
        query and a decryption per execution would be most of a fast execution's cost;
        a changed API key is picked up within ``INTEGRATION_CACHE_SECONDS``."""
        name = node.integration
        if name is None:
            return None
        cached = self._integrations.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return dict(cached[1])
        record = await self._db(self._store.get_integration, name)
        secrets_ = record.secrets_encrypted
        config = {**record.config, **self._box.reveal(secrets_)}
        self._integrations[name] = (time.monotonic() + INTEGRATION_CACHE_SECONDS, config)
        return dict(config)

    # -- the self-trigger guard's records (store.guards, self_trigger.py) ------------------
    async def _begin_create(self, job: ClaimedExecution, kind: str) -> None:
        """Committed before the action calls out: a webhook about what it opens may
        reach the receiver before the call returns, and must find it in flight."""
        await self._db(self._store.begin_create, job.canvas, kind, job.id, job.run_id,
                       self._clock())

    async def _forget_create(self, job: ClaimedExecution) -> None:
        """The create failed (or named no object): deliveries need not wait for it."""
        try:
            await self._db(self._store.forget_create, job.id)
        except Exception as exc:  # it goes stale after a lease time anyway
            log.warning("execution %s: clearing its in-flight create failed: %s",
                        job.id, type(exc).__name__)
        SETTLED.notify()

    # -- failures ------------------------------------------------------------------------
    async def _record_failure(
        self, job: ClaimedExecution, exc: Exception, config: dict[str, Any] | None,
        values: SecretValues = NO_SECRETS,
    ) -> None:
        if isinstance(exc, StoreUnavailable):
            # The database, not the execution, failed (e.g. a restart). Recording a
            # failure now could succeed a moment later and fail it for good; instead
            # the lease expires and the execution is tried again, same idempotency key.
            log.warning("execution %s: database unavailable (%s); it will be retried when "
                        "its lease expires", job.id, type(exc).__name__)
            return
        now = self._clock()
        message, details = describe(exc)
        # e.g. a URL with a secret in its query, quoted by the http step's error
        message, details = values.mask(message), values.mask(details)
        try:
            when = next_attempt_at(job.attempt, exc, now, self._policy)
            if when is not None:
                log.info("execution %s attempt %d: %s; retry at %s", job.id, job.attempt,
                         message, when.isoformat())
                await self._db(self._store.retry_later, job.id, self.id, message, details,
                               config, when, now)
                self._wakeup.due(when, wake=False)
                return
            await self._db(self._store.fail, job.id, self.id, message, details, config, now)
            # One line per failure, so an operator tailing the log sees it without the UI.
            log.warning("canvas %r node %r run %s failed: %s", job.canvas, job.node,
                        job.run_id, message)
        except Exception:
            # The lease will expire and another worker will try again.
            log.exception("execution %s: recording its failure failed", job.id)

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        # Shielded, as ``anyio.to_thread`` is: a cancelled caller still waits for the
        # call to end, so nothing it started is left running behind its back.
        with anyio.CancelScope(shield=True):
            result = await asyncio.wrap_future(self._threads.submit(fn, *args))
        return result


def describe(exc: Exception) -> tuple[str, dict[str, Any] | None]:
    """The message and details stored for a failed attempt."""
    if isinstance(exc, ExecutionError):  # RetryableError and PermanentError too
        return str(exc), exc.details or None
    if isinstance(exc, BudgetError):
        return str(exc), {"node": exc.node, "field": exc.field, "budget": exc.budget,
                          "limit": exc.limit, "setting": exc.setting}
    if isinstance(exc, ExpressionError):
        return str(exc), {"node": exc.node, "field": exc.field}
    if isinstance(exc, IncidentflowError):
        return str(exc), None
    log.error("unexpected error in a component", exc_info=exc)
    return f"{type(exc).__name__}: {exc}", {"unexpected": True}


def _nothing() -> None:
    pass


def _with_created_ids(component: Component, emitted: list[Emitted]) -> list[Emitted]:
    """Each emitted event with the id of the object it reports created, recorded by
    the finish (store.finishes) so the guard recognises later events about it."""
    return [replace(item, created_id=component.created_id(item.event)) for item in emitted]


def _fresh(config: dict[str, Any]) -> dict[str, Any]:
    """A copy a component may change without changing the cached one."""
    return copy.deepcopy(config) if config else {}


@dataclass(frozen=True)
class _NodePlan:
    """What running a node of one canvas version needs, worked out once."""

    canvas: Canvas
    node: Node
    component: Component
    static: dict[str, Any] | None  # the resolved configuration, if it renders nothing
    static_masked: dict[str, Any] | None
    reads_nodes: bool  # whether rendering needs the run's earlier events
    inline: bool  # plain lookups only: resolved on the event loop, not in the pool
    keyed: bool  # some node of the canvas has a concurrency key (a template)
    reads_secrets: bool  # whether rendering needs the secrets (decrypted, masked after)
    secret_names: frozenset[str] = frozenset()  # the names it spells out




async def _poke_when_set(stop: StopSignal, subscription: Subscription) -> None:
    await stop.wait()
    subscription.poke()
