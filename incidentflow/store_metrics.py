"""``StoreMetrics``: the outcomes the host and the worker record, counted in
``metrics``: deliveries by outcome, executions succeeded, retried and failed, their
queue wait and execution time.

A store's async face reports each outcome it recorded (``Store.meter_outcomes``,
``store.outcome_meter``); only outcomes the store accepted are counted (``finish``
etc. report False when the lease was lost, and nothing was written).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from incidentflow.metrics import (
    EXECUTION_RESULTS,
    EXECUTION_SECONDS,
    QUEUE_WAIT,
    accepted_reason_class,
    count_delivery,
    id_time,
    reason_class,
)
from incidentflow.store.port import Admission, ClaimedExecution, DeliveryResult, Ended


class StoreMetrics:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._claimed_at: dict[str, float] = {}  # execution id -> when its claim answered

    def delivered(self, result: DeliveryResult) -> None:
        count_delivery(result.outcome, accepted_reason_class(result))

    def rejected(self, code: str) -> None:
        count_delivery("rejected", reason_class(code))

    def claimed(self, jobs: list[ClaimedExecution], now: datetime) -> None:
        started = self._clock()
        for job in jobs:
            self._claimed_at[job.id] = started
            if job.attempt == 1:
                created = id_time(job.id)
                if created is not None:
                    QUEUE_WAIT.observe(max(0.0, (now - created).total_seconds()))

    def ended(self, outcome: Ended, execution_id: str, recorded: bool) -> None:
        started = self._claimed_at.pop(execution_id, None)
        if recorded:
            EXECUTION_RESULTS[outcome].inc()
            if started is not None:
                EXECUTION_SECONDS.observe(self._clock() - started)

    def admitted(self, execution_id: str, admission: Admission) -> None:
        if not admission.admitted:  # held (or its lease lost): no outcome follows here
            self._claimed_at.pop(execution_id, None)

    def running(self) -> int:
        """Executions claimed whose outcome has not been reported yet."""
        return len(self._claimed_at)
