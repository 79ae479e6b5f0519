"""``ExecutionRunner``: one claimed execution, run and recorded: resolve -> execute
(no transaction open) -> record. Never raises.

Every store call goes through the store's async face (``Store.aio``); the component
runs on the event loop with no database transaction open (docs/design-rules.md,
"No transaction around outside calls"). Outcomes:

- success: ``finish`` (emitted events + downstream executions, one transaction);
- ``RetryableError``: ``retry_later`` with backoff (``engine.retry``), the same
  idempotency key, until the retry limit, then ``fail``;
- ``PermanentError``, ``ExpressionError``, any other error: ``fail`` at once, with
  the message (unexpected errors are logged with their traceback). An expression over
  its budget (``BudgetError``, an ``ExpressionError``) is permanent too: it would go
  over again on every attempt.

Expressions that are more than plain lookups are evaluated in the expression pool
(``engine.resolve``), so a slow template never holds the event loop. A worker whose
lease was lost (it ran too long, another worker took over) writes nothing: the store
refuses its outcome.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import anyio.to_thread
import httpx

from incidentflow.components.base import Component, Emission, ExecutionContext, WaitBegins
from incidentflow.crypto import SecretBox
from incidentflow.engine.event_wait import EventWaits, waits_for_event
from incidentflow.engine.heartbeat import Heartbeat
from incidentflow.engine.node_plans import INTEGRATION_CACHE_SECONDS, NodePlan, NodePlans
from incidentflow.engine.rate_gate import RateGate
from incidentflow.engine.resolve import masked, resolve_config_async
from incidentflow.engine.retry import RetryPolicy, next_attempt_at
from incidentflow.engine.router import plan
from incidentflow.engine.wakeup import Wakeup
from incidentflow.errors import (
    ExecutionError,
    ExpressionError,
    IncidentflowError,
    StoreUnavailable,
)
from incidentflow.events import Event
from incidentflow.expression_budget import Budget, BudgetError, metered
from incidentflow.expression_pool import off_loop
from incidentflow.expressions import scope_for
from incidentflow.secrets_service import (
    NO_SECRETS,
    SecretCache,
    SecretValues,
    masked_emissions,
)
from incidentflow.self_trigger import SETTLED
from incidentflow.store.port import ClaimedExecution, Emitted, Store
from incidentflow.wait_records import Waiting

# The worker's log, as before this was split out of it: operators filter on its name.
log = logging.getLogger("incidentflow.engine.worker")


@dataclass(frozen=True)
class Collaborators:
    """What a runner works with besides the store (built by ``engine.worker``)."""

    plans: NodePlans
    rate_gate: RateGate
    event_waits: EventWaits
    heartbeat: Heartbeat
    wakeup: Wakeup
    box: SecretBox
    http: httpx.AsyncClient
    policy: RetryPolicy
    budget: Budget


class ExecutionRunner:
    def __init__(self, store: Store, worker_id: str, parts: Collaborators,
                 clock: Callable[[], datetime]):
        self._store = store.aio
        self._id, self._parts, self._clock = worker_id, parts, clock
        self._secrets = SecretCache(INTEGRATION_CACHE_SECONDS)

    async def process(
        self, job: ClaimedExecution, executed: Callable[[], None] | None = None
    ) -> None:
        """Run one claimed execution and record its outcome. Never raises.
        ``executed`` is called when the component returned, before the outcome is
        recorded."""
        running = self._parts.heartbeat.running
        running.add(job.id)
        try:
            await self._process(job, executed or _nothing)
        finally:
            running.discard(job.id)

    async def _process(self, job: ClaimedExecution, executed: Callable[[], None]) -> None:
        config: dict[str, Any] | None = None
        values = NO_SECRETS  # what to mask in anything stored: set when the node reads them
        creates: str | None = None  # the kind of object this action opens, if any
        try:
            node_plan = await self._parts.plans.plan(job)
            node, component = node_plan.node, node_plan.component
            if node_plan.static is not None:  # nothing to render: resolved once per version
                resolved, config = _fresh(node_plan.static), node_plan.static_masked
            else:
                if node_plan.reads_secrets:
                    values = await self._secret_values(node_plan.secret_names)
                resolved = await self._resolve(job, node_plan, values)
                config = values.mask(masked(component, resolved))
            if component.creates is not None and not await self._parts.rate_gate.admit(
                    job, node, config, self._clock()):
                executed()
                return
            if component.creates is not None:
                creates = component.creates
                await self._begin_create(job, creates)
            if waits_for_event(component):  # rows in the store, not a call (engine.event_wait)
                waited = await self._parts.event_waits.step(job, node, resolved, config,
                                                            self._clock())
                if waited is None:  # still waiting: queued again, nothing more to record
                    executed()
                    return
                emissions = waited
            else:
                emissions = await self._execute(job, node_plan, resolved)
            executed()
            if node_plan.reads_secrets:
                emissions = masked_emissions(emissions, values)
            job = await self._rerooted(job, emissions)
            if node_plan.keyed:  # concurrency keys are templates: budgeted, off the loop
                emitted = await off_loop(self._metered_plan, node_plan, emissions, job)
            else:
                emitted = plan(node_plan.canvas, node.name, emissions, job.root)
            if creates is not None:
                emitted = _with_created_ids(component, emitted)
            # ``job`` lets the store hand the downstream executions to this worker at once.
            done = await self._store.finish(job.id, self._id, config, emitted, self._clock(),
                                            job)
            if done:
                self._note_waits(emissions)
            if done and waits_for_event(component):
                await self._parts.event_waits.ended(job)
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
            begun = await self._store.begin_wait(job.id, self._id, waiting, config,
                                                 self._clock())
        except Exception as exc:  # as a failure to record: the lease expires, it runs again
            log.warning("execution %s: recording its wait failed: %s", job.id, exc)
            return
        if not begun:
            log.warning("execution %s: lease lost, its wait was not recorded", job.id)
        elif waiting.until is not None:
            self._parts.wakeup.due(waiting.until)

    async def _rerooted(self, job: ClaimedExecution, emissions: list[Emission]) -> ClaimedExecution:
        """A trigger's first step that completed its event (``Emission.root``) makes it
        the run's trigger event, stored before the finish enqueues anything that reads
        it; in its own transaction, after the outside call."""
        new_root = next((e.event for e in emissions if e.root), None)
        if new_root is None:
            return job
        await self._store.replace_root_event(job.run_id, new_root)
        return replace(job, root=new_root)

    def _note_waits(self, emissions: list[Emission]) -> None:
        """Wake for executions enqueued for later (the ``wait`` step) when they are due.
        Other processes learn it from the finish's NOTIFY (``store.notify``)."""
        for emission in emissions:
            if emission.not_before is not None:
                self._parts.wakeup.due(emission.not_before)

    def _metered_plan(self, node_plan: NodePlan, emissions: list[Emission],
                      job: ClaimedExecution) -> list[Emitted]:
        with metered(self._parts.budget):
            return plan(node_plan.canvas, node_plan.node.name, emissions, job.root)

    async def _resolve(
        self, job: ClaimedExecution, node_plan: NodePlan, values: SecretValues
    ) -> dict[str, Any]:
        nodes: dict[str, Event] = {}
        if node_plan.reads_nodes:  # a query: only when a template reads ``nodes``
            nodes = await self._store.node_events(job.run_id)
        scope = scope_for(job.root, job.input, nodes, job.run_id, job.canvas)
        if node_plan.reads_secrets:
            scope["secrets"] = values.by_name
        return await resolve_config_async(node_plan.node, node_plan.component, scope,
                                          self._parts.budget, inline=node_plan.inline)

    async def _secret_values(self, wanted: frozenset[str]) -> SecretValues:
        """Every secret, decrypted; cached like integrations, so a node that reads
        secrets costs a query and decryptions at most every few seconds (or when it
        names one the cached copy lacks). Decrypted in a thread (``SecretCache.load``)."""
        async def load() -> SecretValues:
            encrypted = await self._store.secrets_encrypted()
            return await anyio.to_thread.run_sync(self._secrets.load, encrypted,
                                                  self._parts.box)

        return await self._secrets.get(load, wanted)

    async def _execute(
        self, job: ClaimedExecution, node_plan: NodePlan, config: dict[str, Any]
    ) -> list[Emission]:
        now = self._clock()
        component = node_plan.component
        ctx = ExecutionContext(
            canvas=job.canvas, node=node_plan.node.name, run_id=job.run_id,
            execution_id=job.id, idempotency_key=job.idempotency_key, attempt=job.attempt,
            input=job.input, config=config, http=self._parts.http, now=now,
            integration=await self._parts.plans.integration(node_plan.node),
            # A waiting step learns how its wait was settled (a query only for those).
            waited=(await self._store.take_wait(job.id, now)
                    if component.waits is not None else None),
        )
        return list(await component.execute(ctx))

    # -- the self-trigger guard's records (store.guards, self_trigger.py) ------------------
    async def _begin_create(self, job: ClaimedExecution, kind: str) -> None:
        """Committed before the action calls out: a webhook about what it opens may
        reach the receiver before the call returns, and must find it in flight."""
        await self._store.begin_create(job.canvas, kind, job.id, job.run_id, self._clock())

    async def _forget_create(self, job: ClaimedExecution) -> None:
        """The create failed (or named no object): deliveries need not wait for it."""
        try:
            await self._store.forget_create(job.id)
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
            when = next_attempt_at(job.attempt, exc, now, self._parts.policy)
            if when is not None:
                log.info("execution %s attempt %d: %s; retry at %s", job.id, job.attempt,
                         message, when.isoformat())
                await self._store.retry_later(job.id, self._id, message, details, config,
                                              when, now)
                self._parts.wakeup.due(when, wake=False)
                return
            await self._store.fail(job.id, self._id, message, details, config, now)
            # One line per failure, so an operator tailing the log sees it without the UI.
            log.warning("canvas %r node %r run %s failed: %s", job.canvas, job.node,
                        job.run_id, message)
        except Exception:
            # The lease will expire and another worker will try again.
            log.exception("execution %s: recording its failure failed", job.id)


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
