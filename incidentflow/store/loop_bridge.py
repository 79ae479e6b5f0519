"""The loop bridge: calls from the store's threads onto an event loop, many per wakeup.

The SQL store's writer thread settles a whole batch of jobs at once (deliveries, the
worker's finishes and claims, the executions handed over). Waiting for each in a
thread of its own costs a thread wakeup and a GIL hand-off per job, and
``loop.call_soon_threadsafe`` per job wakes the loop once per job; the inbox queues
the calls and wakes the loop once, and the loop runs everything queued meanwhile.
``Answer`` is what a coroutine awaits meanwhile (``answered``); ``on_loop`` brings the
hand-overs to a local worker (``store.handoff``) the same way.

The store's adapters' business (``store.sql_async``, the stores' ``attach_worker``):
nothing above the store uses it.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from incidentflow.store.port import ClaimedExecution, LocalWorker

T = TypeVar("T")


class Inbox:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._calls: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self._lock = threading.Lock()
        self._scheduled = False

    def put(self, call: Callable[..., None], *args: Any) -> None:
        """Run ``call(*args)`` on the loop soon (thread-safe). RuntimeError if the
        loop is closed."""
        with self._lock:
            self._calls.append((call, args))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._run)
        except RuntimeError:
            with self._lock:
                self._scheduled = False
            raise

    def _run(self) -> None:
        with self._lock:
            calls, self._calls, self._scheduled = self._calls, [], False
        for call, args in calls:
            call(*args)


class Answer(asyncio.Future[T]):
    """The answer of a store call that is already running in another thread. Cancelling
    the task that awaits it does not abandon it: the task gets its CancelledError once
    the answer is in (what a shield does, without a second future per call), so
    nothing the call did is left behind its caller's back."""

    def cancel(self, msg: Any = None) -> bool:
        return False


_INBOXES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Inbox] = (
    weakref.WeakKeyDictionary()
)
_INBOXES_LOCK = threading.Lock()


def inbox() -> Inbox:
    """The running loop's inbox (one per loop, shared by everything on it, so a batch
    that answers the worker and the webhook receiver alike wakes the loop once)."""
    loop = asyncio.get_running_loop()
    last = _last_inbox
    if last is not None and last.loop is loop:
        # Almost every call comes from the one loop of the process: a weak mapping's
        # lookup makes a weak reference per call (~3 % of a delivery's GIL time).
        return last
    found = _INBOXES.get(loop)
    if found is None:
        with _INBOXES_LOCK:
            found = _INBOXES.setdefault(loop, Inbox(loop))
    _remember(found)
    return found


_last_inbox: Inbox | None = None


def _remember(box: Inbox) -> None:
    global _last_inbox
    _last_inbox = box


def settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Resolve ``future`` (on its loop) unless its waiter gave up on it."""
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


async def answered(call: Callable[..., None], *args: Any) -> Any:
    """``call(*args, then)``, a store call that answers through ``then(result, error)``
    from its writer thread, awaited on the running loop. Cancelling the caller does not
    abandon the call: the CancelledError comes once the answer is in."""
    box = inbox()
    answer: Answer[Any] = Answer(loop=box.loop)
    call(*args, lambda result, error: box.put(settle, answer, result, error))
    return await answer


class OnLoop:
    """A local worker (``store.handoff``) whose hand-overs reach it on the event loop it
    was attached from, through that loop's inbox: a batch's hand-overs and answers
    wake the loop once. Hand-overs to a closed loop give their slots back."""

    def __init__(self, worker: LocalWorker, box: Inbox):
        self.worker, self._box = worker, box
        self.id = worker.id

    @property
    def lease_seconds(self) -> float:
        return self.worker.lease_seconds

    def reserve(self, wanted: int) -> int:
        return self.worker.reserve(wanted)

    def unreserve(self, count: int) -> None:
        self.worker.unreserve(count)

    def hand_over(self, jobs: list[ClaimedExecution]) -> None:
        try:
            self._box.put(self.worker.hand_over, jobs)
        except RuntimeError:  # the loop is closed: the leases expire and are taken over
            self.worker.unreserve(len(jobs))


def on_loop(worker: LocalWorker) -> LocalWorker:
    """``worker`` with its hand-overs brought onto the running loop; as it is when no
    loop runs in this thread (then it is handed its executions where they commit)."""
    try:
        box = inbox()
    except RuntimeError:
        return worker
    return OnLoop(worker, box)
