"""The threads that evaluate expressions off the event loop.

A template with loops, calls or filters may run for its whole time budget. On the event
loop that second would stop webhook intake, the API and the UI; in one of these threads
it costs only that thread, while the interpreter keeps switching back to the loop (every
few milliseconds, the GIL's switch interval). A few threads are enough: evaluation is
CPU-bound, so more would not run faster, and a burst of hostile templates can hold at
most this many threads for at most one budget each.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
POOL_THREADS = 2

_pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="incidentflow-expressions")


async def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in the expression pool, awaited. Not abandoned on
    cancellation: the budget ends it soon, and its result is simply dropped."""
    call = functools.partial(function, *args, **kwargs)
    return await asyncio.wrap_future(_pool.submit(call))
