"""Calls from other threads onto an event loop, many per wakeup.

The store's writer thread settles a whole batch of the worker's jobs at once (their
finishes, the executions handed over). ``loop.call_soon_threadsafe`` per job would
wake the loop once per job (a syscall each); the inbox queues the calls and wakes the
loop once, and the loop runs everything queued meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

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


def settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Resolve ``future`` (on its loop) unless its waiter gave up on it."""
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
