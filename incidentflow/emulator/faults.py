"""Fault injection for the emulated API: queued failures and a random failure rate.

A queued fault fails the next N API calls. ``when="before"`` fails without touching
anything; ``when="after"`` lets the request take effect and then loses the response, the
case that makes a client's idempotency key matter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from incidentflow.emulator.problems import ApiProblem, ErrorDetail

FAULT_STATUSES = (429, 500, 502, 503, 504)
WHEN = ("before", "after")


@dataclass
class Fault:
    status: int
    count: int = 1
    retry_after: int | None = None
    when: str = "before"

    @classmethod
    def from_json(cls, body: Any) -> Fault:
        if not isinstance(body, dict):
            raise ValueError("fault must be a JSON object")
        fault = cls(
            status=body.get("status", 500),
            count=body.get("count", 1),
            retry_after=body.get("retry_after"),
            when=body.get("when", "before"),
        )
        fault.check()
        return fault

    def check(self) -> None:
        if self.status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {list(FAULT_STATUSES)}")
        if not isinstance(self.count, int) or self.count < 1:
            raise ValueError("count must be a positive integer")
        if self.retry_after is not None and (
            not isinstance(self.retry_after, int) or self.retry_after < 0
        ):
            raise ValueError("retry_after must be a non-negative integer (seconds)")
        if self.when not in WHEN:
            raise ValueError(f"when must be one of {list(WHEN)}")

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def problem(self) -> ApiProblem:
        if self.status == 429:
            return rate_limited(self.retry_after if self.retry_after is not None else 1)
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        detail = ErrorDetail("internal_error", "Injected failure from the incident.io emulator")
        return ApiProblem(self.status, "internal_error", [detail], headers=headers)


def rate_limited(retry_after: int) -> ApiProblem:
    """incident.io's documented 429: Retry-After header plus a ``rate_limit`` block."""
    detail = ErrorDetail(
        "too_many_requests",
        "Too many requests hit the API too quickly. We recommend an exponential backoff "
        "of your requests.",
    )
    retry_at = datetime.now(UTC) + timedelta(seconds=retry_after)
    rate_limit = {
        "name": "api_key",
        "limit": 1200,
        "remaining": 0,
        "retry_after": retry_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return ApiProblem(
        429, "too_many_requests", [detail],
        headers={"Retry-After": str(retry_after)}, extra={"rate_limit": rate_limit},
    )


@dataclass
class FaultPlan:
    queued: list[Fault] = field(default_factory=list)
    fail_rate: float = 0.0
    fail_status: int = 500
    rng: random.Random = field(default_factory=random.Random)

    def add(self, fault: Fault) -> None:
        self.queued.append(fault)

    def clear(self) -> None:
        self.queued.clear()

    def take(self) -> Fault | None:
        """The fault for the next API call, if any; consumes one use of it."""
        if self.queued:
            fault = self.queued[0]
            fault.count -= 1
            if fault.count == 0:
                self.queued.pop(0)
            return Fault(fault.status, 1, fault.retry_after, fault.when)
        if self.fail_rate and self.rng.random() < self.fail_rate:
            return Fault(self.fail_status)
        return None
