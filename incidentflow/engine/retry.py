"""When to try a failed execution again: a pure function of (attempt, error, now).

Exponential backoff with jitter: attempt 1 failed -> ~base, 2 -> ~2*base, ... capped
at ``max_seconds``. ``RetryableError.retry_after`` (e.g. a 429's Retry-After) wins
over the computed delay. Anything but a ``RetryableError`` is never retried.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incidentflow.errors import RetryableError
from incidentflow.settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    limit: int = 10  # attempts in all, the first included
    base_seconds: float = 2.0
    max_seconds: float = 300.0
    jitter: float = 0.5  # the delay varies by up to this fraction, downwards
    random: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"retry limit must be at least 1, got {self.limit}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter}")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> RetryPolicy:
        given: dict[str, object] = {
            "limit": settings.retry_limit,
            "base_seconds": settings.retry_base_seconds,
            "max_seconds": settings.retry_max_seconds,
            **overrides,
        }
        return cls(**given)  # type: ignore[arg-type]


def next_attempt_at(
    attempt: int, error: BaseException, now: datetime, policy: RetryPolicy
) -> datetime | None:
    """When attempt ``attempt + 1`` should start, or None: give up now."""
    if not isinstance(error, RetryableError) or attempt >= policy.limit:
        return None
    if error.retry_after is not None:
        return now + timedelta(seconds=max(0.0, error.retry_after))
    return now + timedelta(seconds=backoff_seconds(attempt, policy))


def backoff_seconds(attempt: int, policy: RetryPolicy) -> float:
    ceiling = min(policy.max_seconds, policy.base_seconds * 2 ** max(0, attempt - 1))
    # Jitter spreads retries of many executions that failed together (an outage).
    return ceiling * (1 - policy.jitter * policy.random())
