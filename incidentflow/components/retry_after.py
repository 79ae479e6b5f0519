"""Reading an HTTP ``Retry-After`` header (RFC 9110 §10.2.3).

Shared by the generic ``http`` step and the incident.io client so both honour a
server's request to back off the same way. ``now`` is passed in so the result is a
pure function of its inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait, from either delta-seconds (``"30"``) or an HTTP date.

    Returns ``None`` when the header is absent or unreadable (the caller falls back to
    its own backoff); a date in the past means "retry now" (``0.0``).
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
