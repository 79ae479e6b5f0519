"""The self-trigger guard: an event about an object that a canvas itself created does
not start that canvas again (unless its trigger opts in with ``allowSelfTriggered``).

Without it, On Incident -> Create Incident feeds itself: every incident it opens comes
back as an ``incident_created`` webhook and opens another.

Create actions record what they open (``store.guards``): "in flight" before they call
out, "created" with the object's id when their success is recorded. incident.io may
send the webhook before it has answered the create call, so a delivery about an object
we do not know yet waits, briefly and without blocking the loop, for the canvas's
creates that were in flight when it arrived; deliveries to canvases with nothing in
flight never wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentflow.components.base import WebhookTrigger
from incidentflow.events import Event

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas, Node
    from incidentflow.registry import Registry
    from incidentflow.store.async_port import AsyncStore
    from incidentflow.store.port import SelfCreated

log = logging.getLogger(__name__)

REASON_PREFIX = "self-triggered"
# Polling is the fallback (a create run by another process); a create that settles in
# this process wakes the waiting deliveries at once (``SETTLED``).
FIRST_POLL_SECONDS = 0.01
MAX_POLL_SECONDS = 0.2



class CreatesSettled:
    """Wakes the deliveries waiting for creates in flight when a create of this process
    is recorded (or failed). A hint only: waiters look in the store again either way."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """From any thread."""
        for waiter in list(self._waiters):
            waiter.get_loop().call_soon_threadsafe(_wake, waiter)

    async def wait(self, timeout: float) -> None:
        """Until the next ``notify`` or ``timeout`` seconds, whichever comes first."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            self._waiters.discard(waiter)
            waiter.cancel()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


SETTLED = CreatesSettled()  # one per process: the worker notifies, the receiver waits


def guarded_kinds(
    canvas: Canvas, node: Node, trigger: WebhookTrigger, registry: Registry
) -> frozenset[str]:
    """Kinds of object that ``node`` listens for and its own canvas creates; empty when
    there is nothing to guard (or the trigger opted in to self-triggered runs)."""
    if not trigger.listens_for or trigger.allows_self_triggered(node.configuration):
        return frozenset()
    created = set()
    for other in canvas.nodes:
        component = registry.components.get(other.type)
        if component is not None and component.creates:
            created.add(component.creates)
    return trigger.listens_for & frozenset(created)


class SelfTriggerGuard:
    def __init__(
        self,
        db: AsyncStore,
        clock: Callable[[], datetime],
        wait_seconds: float,
        live_seconds: float,
    ):
        """``db``: the store's async face. ``live_seconds``: an in flight record older
        than this belongs to a worker that died (the lease time)."""
        self._db, self._clock = db, clock
        self._wait, self._live = max(0.0, wait_seconds), timedelta(seconds=live_seconds)

    async def screen(
        self, canvas: str, kinds: frozenset[str], trigger: WebhookTrigger,
        events: Sequence[Event],
    ) -> tuple[list[Event], str]:
        """The events that may start runs, and (when none may) why they were ignored."""
        kept: list[Event] = []
        reasons: list[str] = []
        for event in events:
            subject = trigger.subject_id(event)
            suspect = subject is not None and trigger.could_be_self_created(event)
            run_id = await self._creator(canvas, kinds, subject) if suspect and subject else None
            if run_id is None:
                kept.append(event)
            else:
                reasons.append(f"{REASON_PREFIX}: {'/'.join(sorted(kinds))} {subject} was "
                               f"created by this canvas (run {run_id})")
        return kept, "" if kept else "; ".join(reasons)

    async def _creator(self, canvas: str, kinds: frozenset[str], subject: str) -> str | None:
        """The run of ``canvas`` that created ``subject``, or None. Waits while creates
        that were in flight at the first look are unanswered, up to the wait limit."""
        deadline = time.monotonic() + self._wait
        waiting: frozenset[str] | None = None
        pause = FIRST_POLL_SECONDS
        while True:
            found: SelfCreated = await self._db.self_created(
                canvas, kinds, subject, self._clock() - self._live)
            if found.created_by is not None:
                return found.created_by
            # Creates that start after the delivery arrived cannot be what it is about.
            waiting = found.in_flight if waiting is None else waiting & found.in_flight
            left = deadline - time.monotonic()
            if not waiting:
                return None
            if left <= 0:
                log.warning("self-trigger guard: %d create(s) of canvas %s still in flight "
                            "after %.1fs; the delivery about %s is let through",
                            len(waiting), canvas, self._wait, subject)
                return None
            await SETTLED.wait(min(pause, left))
            pause = min(pause * 2, MAX_POLL_SECONDS)
