"""Backoff as a pure function of (attempt, error, now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incidentflow.engine.retry import RetryPolicy, next_attempt_at
from incidentflow.errors import PermanentError, RetryableError

NOW = datetime(2026, 3, 1, tzinfo=UTC)
FLAKY = RetryableError("503")


def after(attempt, error=FLAKY, **policy):
    when = next_attempt_at(attempt, error, NOW, RetryPolicy(**policy))
    return None if when is None else (when - NOW).total_seconds()


def test_backoff_doubles_from_the_base():
    assert [after(n, random=lambda: 0.0) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]


def test_jitter_shortens_by_up_to_its_fraction():
    assert after(3, random=lambda: 1.0, jitter=0.5) == 4
    assert after(3, random=lambda: 0.5, jitter=0.5) == 6


def test_delay_is_capped():
    assert after(4, random=lambda: 0.0, limit=50, max_seconds=10) == 10


def test_retry_after_wins():
    assert after(1, RetryableError("429", retry_after=30), random=lambda: 0.0) == 30


def test_gives_up_at_the_limit():
    assert after(4, limit=5) is not None
    assert after(5, limit=5) is None


@pytest.mark.parametrize("error", [PermanentError("422"), ValueError("boom")])
def test_only_retryable_errors_retry(error):
    assert after(1, error) is None


def test_bad_policy_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(limit=0)


def test_backoff_is_never_in_the_past():
    for attempt in range(1, 5):
        assert next_attempt_at(attempt, FLAKY, NOW, RetryPolicy()) > NOW - timedelta(0)
