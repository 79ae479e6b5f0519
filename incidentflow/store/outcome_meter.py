"""``OutcomeMeter``: what a store's async face reports of the outcomes it recorded on
the hot path (deliveries, rejections, claims, finishes, retries, failures, the rate
limit's admissions), for the process's metrics (``store_metrics.StoreMetrics``).

A seam, not a wrapper: the async adapters report here after each hot call, so metering
costs no delegate of every port method. ``UNMETERED`` is the default, reporting
nowhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from incidentflow.store.records import Admission, ClaimedExecution, DeliveryResult

Ended = Literal["succeeded", "retried", "failed"]


class OutcomeMeter(Protocol):
    def delivered(self, result: DeliveryResult) -> None:
        """A delivery was recorded (committed) with this result."""
        ...

    def rejected(self, code: str) -> None:
        """A refused delivery was recorded, with its ``RejectionCode`` value."""
        ...

    def claimed(self, jobs: list[ClaimedExecution], now: datetime) -> None:
        """These executions were leased by a claim made at ``now``."""
        ...

    def ended(self, outcome: Ended, execution_id: str, recorded: bool) -> None:
        """An attempt's outcome was asked for; ``recorded`` False: the lease was lost
        and nothing was written."""
        ...

    def admitted(self, execution_id: str, admission: Admission) -> None:
        """The create rate limit answered for the execution."""
        ...


class _Unmetered:
    def delivered(self, result: DeliveryResult) -> None:
        pass

    def rejected(self, code: str) -> None:
        pass

    def claimed(self, jobs: list[ClaimedExecution], now: datetime) -> None:
        pass

    def ended(self, outcome: Ended, execution_id: str, recorded: bool) -> None:
        pass

    def admitted(self, execution_id: str, admission: Admission) -> None:
        pass


UNMETERED: OutcomeMeter = _Unmetered()
