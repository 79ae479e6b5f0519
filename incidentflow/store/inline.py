"""``InlineStore``: the async port over a store whose calls never wait for anything
(``InMemoryStore``: a lock and plain records), made in the caller's thread, on the
event loop: no thread per call.

Each call yields to the loop once after it is made, as a call made in a thread
would: a caller that polls the store in a loop still lets the other tasks run. A
caller cancelled meanwhile sees its CancelledError only after the call is done, as
with the other adapters: nothing is abandoned half-way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from incidentflow.store.threaded import ThreadedStore

T = TypeVar("T")


class InlineStore(ThreadedStore):
    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        result = fn(*args, **kwargs)
        await asyncio.sleep(0)
        return result
