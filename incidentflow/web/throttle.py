"""Sign-in throttling: a client that keeps presenting wrong tokens must wait.

Failed attempts are counted per client address over a sliding window (settings
``signin_attempts`` per ``signin_window_seconds``). Once a client has used them up,
every attempt from it is answered 429 with ``Retry-After`` (the seconds until its
oldest failure leaves the window), before its token is even checked. A successful
sign-in clears the client's failures. The UI sign-in form and the API's bearer tokens
share one count, since both guess at the same tokens.

The count lives in this process only: with several replicas behind a load balancer a
client gets that many attempts per replica, and a restart forgets. Behind a reverse
proxy the client address is the one uvicorn reads from ``X-Forwarded-For`` (trusted
only from ``FORWARDED_ALLOW_IPS``, by default 127.0.0.1).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.types import Scope

if TYPE_CHECKING:
    from incidentflow.settings import Settings

# Enough for every client of a busy site; past it, see SigninThrottle._make_room.
MAX_CLIENTS = 10_000


class SigninThrottle:
    def __init__(self, attempts: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.attempts, self.window = attempts, window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds ``client`` must wait before its next attempt, or None."""
        if not self._failures:  # the common case: nobody is failing
            return None
        with self._lock:
            failures = self._failures.get(client)
            if failures is None or len(failures) < self.attempts:
                return None
            wait = failures[0] + self.window - self._clock()
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                self._make_room(now)
                failures = self._failures[client] = deque(maxlen=self.attempts)
            failures.append(now)

    def succeeded(self, client: str) -> None:
        if self._failures:
            with self._lock:
                self._failures.pop(client, None)

    def _make_room(self, now: float) -> None:
        """When full, forget clients whose failures expired, then the longest-known ones
        down to 90 %, so a flood of new addresses costs one scan per 1,000 of them."""
        if len(self._failures) < MAX_CLIENTS:
            return
        expired = [c for c, f in self._failures.items() if f[-1] + self.window <= now]
        for client in expired:
            del self._failures[client]
        excess = len(self._failures) - MAX_CLIENTS * 9 // 10
        for client in list(itertools.islice(self._failures, max(0, excess))):
            del self._failures[client]


_throttles: weakref.WeakKeyDictionary[Settings, SigninThrottle] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def throttle_for(settings: Settings) -> SigninThrottle:
    """The one throttle of an app (its settings): shared by the UI and the API."""
    with _registry_lock:
        throttle = _throttles.get(settings)
        if throttle is None:
            throttle = SigninThrottle(settings.signin_attempts, settings.signin_window_seconds)
            _throttles[settings] = throttle
        return throttle


def client_of(scope: Scope) -> str:
    """The client's address as the server saw it (after trusted proxy headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def too_many_message(wait: int) -> str:
    return f"too many failed sign-in attempts from your address; try again in {wait} s"
