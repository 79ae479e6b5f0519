"""The engine's worker: the claim loop. Claims due executions into free slots (or is
handed them by the store as they are enqueued, ``store.handoff``) and runs each in a
task of its own (``engine.execution_runner``: resolve -> execute, no transaction open
-> record).

Its collaborators, one noun each: ``engine.slots`` (how many run at once, the
hand-over), ``engine.heartbeat`` (the leases of what runs, extended),
``engine.execution_runner`` (one execution), ``engine.node_plans`` (what running a
node needs, cached), ``engine.rate_gate``, ``engine.event_wait``; beside them in the
same task group, ``engine.scheduler`` and ``engine.catch_up``. Every store call goes
through the store's async face (``Store.aio``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import anyio
import anyio.to_thread
import httpx

from incidentflow.crypto import SecretBox
from incidentflow.engine.catch_up import CatchUpPoller
from incidentflow.engine.event_wait import EventWaits
from incidentflow.engine.execution_runner import Collaborators, ExecutionRunner, describe
from incidentflow.engine.heartbeat import Heartbeat
from incidentflow.engine.node_plans import INTEGRATION_CACHE_SECONDS, NodePlans
from incidentflow.engine.rate_gate import RateGate
from incidentflow.engine.retry import RetryPolicy
from incidentflow.engine.scheduler import Scheduler
from incidentflow.engine.slots import Slots
from incidentflow.engine.wakeup import Subscription, Wakeup
from incidentflow.events import utcnow
from incidentflow.registry import Registry
from incidentflow.settings import Settings
from incidentflow.store.port import ClaimedExecution, Store, WorkListener

__all__ = ["INTEGRATION_CACHE_SECONDS", "StopSignal", "Worker", "describe"]

log = logging.getLogger(__name__)
LISTEN_POLL_SECONDS = 5.0


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
        self._store, self._aio, self._box, self._http = store, store.aio, box, http
        self._settings, self._clock = settings, clock
        self._wakeup = wakeup or Wakeup()
        self._slots = Slots(self.id, max(1, settings.worker_concurrency),
                            settings.lease_seconds)
        self._heartbeat = Heartbeat(self._aio, self.id, settings.lease_seconds, clock)
        budget = settings.expression_budget
        self._runner = ExecutionRunner(store, self.id, Collaborators(
            NodePlans(self._aio, registry, box), RateGate(self._aio, settings, self.id),
            EventWaits(self._aio, self._wakeup, budget, self.id), self._heartbeat,
            self._wakeup, box, http, policy or RetryPolicy.from_settings(settings), budget,
        ), clock)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- loops ---------------------------------------------------------------------------
    async def drain(self) -> int:
        """Run everything due now (and what it enqueues), then return how many ran."""
        total = 0
        while claimed := await self._claim(self._slots.concurrency):
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
                beating.start_soon(self._heartbeat.run)
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
                await self._aio.release(self.id, self._clock())

    async def process(
        self, job: ClaimedExecution, executed: Callable[[], None] | None = None
    ) -> None:
        """Run one claimed execution and record its outcome (``ExecutionRunner``)."""
        await self._runner.process(job, executed)

    # -- the hand-over (engine.slots) and other processes' work ---------------------------
    def _attach(self, subscription: Subscription) -> None:
        def start(jobs: list[ClaimedExecution]) -> None:
            for job in jobs:
                self._start(job, subscription)

        self._slots.open(start)
        self._store.attach_worker(self._slots)

    def _detach(self) -> None:
        # A hand-over still in flight now gives its slots back; its executions stay
        # leased to us until ``release`` (end of ``run``) hands them back to the queue.
        self._slots.close()
        self._store.detach_worker(self._slots)

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
            when = await self._aio.next_due(self._clock())
        except Exception as exc:  # the poll still finds it, a little later
            log.warning("reading when queued work is next due failed: %s", exc)
            return
        if when is not None:
            self._wakeup.due(when, wake=False)

    # -- claims and the tasks that run them -------------------------------------------------
    def _start(self, job: ClaimedExecution, subscription: Subscription) -> None:
        # A plain task, not a task group's: spawning is a large share of a fast
        # execution's cost, and ``_join`` gives the same structure (wait, or cancel
        # and wait) when the worker stops.
        task = asyncio.get_running_loop().create_task(self._process_in_slot(job, subscription))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _join(self) -> None:
        """Wait for every execution started; if cancelled meanwhile (a stop that could
        not wait), cancel them and still wait: a store call under way answers first
        (the store's async face abandons none), so nothing recorded is lost before the
        leases are handed back."""
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
        free = self._slots.reserve(self._slots.concurrency)
        if free <= 0:
            return False
        try:
            claimed = await self._claim(free)
        except Exception:
            self._slots.unreserve(free)
            log.exception("claiming work failed; retrying after the poll interval")
            return False
        self._slots.unreserve(free - len(claimed))
        for job in claimed:
            self._start(job, subscription)
        return len(claimed) == free

    async def _process_in_slot(self, job: ClaimedExecution, subscription: Subscription) -> None:
        freed = False

        def free_slot() -> None:  # once the component returned: its slot may serve the
            nonlocal freed       # downstream executions its finish hands over
            if not freed:
                freed = True
                self._slots.unreserve(1)

        try:
            await self._runner.process(job, free_slot)
        finally:
            free_slot()
            subscription.poke()  # a slot is free: claim again

    async def _claim(self, limit: int) -> list[ClaimedExecution]:
        return await self._aio.claim(self.id, self._clock(), self._settings.lease_seconds,
                                     limit)


async def _poke_when_set(stop: StopSignal, subscription: Subscription) -> None:
    await stop.wait()
    subscription.poke()
