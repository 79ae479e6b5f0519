"""Nothing lost: after a load, every delivery the load generator saw acknowledged (2xx)
must be stored by the product and its run must finish.

A 2xx is the product's promise that the delivery is durable, so ``stored`` may never be
below ``acknowledged``. It may be above by at most the requests that were in flight when
the generator stopped (one per connection): the product accepted them, but the generator
closed the connection before reading the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.productdb import Stored


@dataclass(frozen=True)
class LossCheck:
    acknowledged: int  # 2xx answers the load generator read
    stored: int  # deliveries of that load stored as accepted
    finished: int  # of those, the ones whose run has finished
    in_flight: int  # requests that may have been cut off when the load stopped

    @property
    def lost(self) -> int:
        return max(0, self.acknowledged - self.stored)

    @property
    def unexplained(self) -> int:
        """Stored deliveries beyond the acknowledged and the cut-off ones (a miscount)."""
        return max(0, self.stored - self.acknowledged - self.in_flight)

    @property
    def unfinished(self) -> int:
        return self.stored - self.finished

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.unexplained == 0 and self.unfinished == 0

    def metrics(self) -> dict[str, object]:
        return {
            "acknowledged": self.acknowledged,
            "stored": self.stored,
            "lost": self.lost,
            "unfinished": self.unfinished,
            "nothing_lost": self.ok,
        }

    def problem(self) -> str | None:
        """What is wrong, in words, or None."""
        if self.ok:
            return None
        return (
            f"LOSS CHECK FAILED: {self.acknowledged} acknowledged, {self.stored} stored "
            f"({self.lost} lost, {self.unexplained} unexplained), {self.unfinished} runs "
            "unfinished"
        )


def acknowledged_by_wrk(requests: int, non_2xx: int) -> int:
    """wrk counts a request when its answer is complete and calls any status >= 400 an
    error; the product answers a delivery with 200, or 4xx/5xx when it refuses one."""
    return requests - non_2xx


def wait_until_settled(
    read: Callable[[], Stored],
    acknowledged: int,
    in_flight: int,
    timeout: float,
    interval: float = 0.25,
) -> LossCheck:
    """Poll ``read`` until every acknowledged delivery is stored and every stored one's
    run has finished, or until ``timeout``; the last check either way (the figure
    reports a failed one rather than raising, so the loss is in the results)."""
    deadline = time.monotonic() + timeout
    while True:
        stored = read()
        check = LossCheck(acknowledged, stored.accepted, stored.finished, in_flight)
        settled = check.stored >= acknowledged and check.unfinished == 0
        if settled or time.monotonic() >= deadline:
            return check
        time.sleep(interval)


def settle_timeout(acknowledged: int) -> float:
    """Time allowed for the backlog to drain: a minute, plus a second per 100 deliveries
    (an engine far below its 2,000 executions/s target still drains in time)."""
    return 60.0 + acknowledged / 100
