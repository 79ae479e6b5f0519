"""Wakes idle workers as soon as work is committed, with a polling fallback.

``notify()`` may be called from any thread (store calls run in worker threads); each
worker ``subscribe()``s once and awaits ``Subscription.wait()``. A notification that
arrives while the worker is busy is kept, so it is never lost. Work committed by
another process: on PostgreSQL the worker LISTENs (``store.notify.WorkListener``
calls ``notify()``; the poll becomes a 5 s fallback); on SQLite it is found by polling
(``poll_seconds``).

Work queued for later (retries, the ``wait`` step) is due at a known time: ``due(when)``
keeps the earliest such time and the worker sleeps no longer than until then. Only the
earliest is kept; when it has passed, the worker asks the store for the next one
(``Store.next_due``), so thousands of waiting executions cost one query per due time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from datetime import datetime


class Subscription:
    def __init__(self, wakeup: Wakeup):
        self._wakeup = wakeup
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def poke(self) -> None:
        """Wake this subscriber (thread-safe)."""
        if _running_loop() is self._loop:
            # On its own loop (the host's wake): set at once, without the self-pipe
            # write and loop wakeup ``call_soon_threadsafe`` costs.
            self._event.set()
            return
        # RuntimeError: its loop is closed, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float | None = None) -> bool:
        """Until notified or ``timeout`` (default: the poll interval). True if notified."""
        timeout = self._wakeup.poll_seconds if timeout is None else timeout
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        notified = self._event.is_set()
        self._event.clear()
        return notified

    def close(self) -> None:
        self._wakeup._remove(self)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a thread without a loop (the store's writer)
        return None


class Wakeup:
    def __init__(self, poll_seconds: float = 1.0):
        self.poll_seconds = poll_seconds
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._due: datetime | None = None
        self._relays: list[Callable[[], None]] = []

    @property
    def next_due(self) -> datetime | None:
        """The earliest time known at which queued work becomes due."""
        return self._due

    def due(self, when: datetime, *, wake: bool = True) -> None:
        """Work becomes due at ``when`` (thread-safe). ``wake``: the workers look at
        how long to sleep again now (they may be sleeping until a later time)."""
        with self._lock:
            if self._due is not None and self._due <= when:
                return
            self._due = when
        if wake:
            self.notify()

    def take_passed(self, now: datetime) -> bool:
        """True, and forgotten, if the earliest known due time has come."""
        with self._lock:
            if self._due is None or self._due > now:
                return False
            self._due = None
            return True

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def relay(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` on every ``notify()`` too: workers in another process
        (``worker_process``); ``wake`` must be thread-safe and must not block."""
        with self._lock:
            self._relays.append(wake)

    def notify(self) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
            relays = list(self._relays)
        for subscription in subscriptions:
            subscription.poke()
        for wake in relays:
            wake()

    def _remove(self, subscription: Subscription) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)
