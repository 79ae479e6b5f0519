"""The ``wait`` step: pass the input event on after a delay or at a given time.

The wait holds nothing while it waits. Its own execution ends at once, emitting its
input unchanged with ``not_before`` set; the executions that emission enqueues are
stored queued until that time (``executions.next_attempt_at``), so a wait survives
restarts, holds no worker slot and no connection, and costs nothing until it is due.
Workers learn the time from the finish (in process) or its NOTIFY (other processes)
and wake for it (``engine.wakeup``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from incidentflow.components.base import Component, Emission, ExecutionContext, Field
from incidentflow.errors import PermanentError, Problem

SECONDS, UNTIL = "seconds", "until"
# A year: longer waits are almost surely a unit mistake (milliseconds for seconds).
MAX_SECONDS = 366 * 24 * 3600


class Wait(Component):
    type = "wait"
    label = "Wait"
    description = ("Pass the input event on unchanged after a number of seconds, or at a "
                   "given time. Durable: survives restarts; holds no worker while waiting.")
    icon = "⏱"
    fields = (
        Field(SECONDS, "object", "Seconds",
              description='How long to wait: a number, or an expression such as '
                          '"{{ previous.data.delay }}". Give this or Until, not both.'),
        Field(UNTIL, "template", "Until",
              description="When to go on: an ISO 8601 time such as 2026-01-19T12:00:00Z "
                          "(no offset: UTC), or an expression. Give this or Seconds."),
    )

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        given = [name for name in (SECONDS, UNTIL) if config.get(name) is not None]
        if not given:
            return [Problem("give seconds or until (one of them)", node, SECONDS)]
        if len(given) == 2:
            return [Problem("give seconds or until, not both", node, UNTIL)]
        name = given[0]
        value = config[name]
        if isinstance(value, str) and "{{" in value:
            return []  # checked when rendered
        try:
            seconds_from(value) if name == SECONDS else time_from(value)
        except PermanentError as exc:
            return [Problem(str(exc), node, name)]
        return []

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        return [Emission(ctx.input, not_before=due_time(ctx.config, ctx.now))]


def due_time(config: Mapping[str, Any], now: datetime) -> datetime:
    """When the wait is over, from its resolved configuration."""
    if config.get(SECONDS) is not None:
        return now + timedelta(seconds=seconds_from(config[SECONDS]))
    return time_from(config.get(UNTIL))


def seconds_from(value: Any) -> float:
    """A rendered ``seconds`` as a number of seconds, or a PermanentError saying why not."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise PermanentError(f"seconds must be a number of seconds, got {_shown(value)}")
    if not 0 <= number <= MAX_SECONDS:
        raise PermanentError(f"seconds must be between 0 and {MAX_SECONDS} (a year), "
                             f"got {_shown(value)}")
    return number


def time_from(value: Any) -> datetime:
    """A rendered ``until`` as an aware UTC time, or a PermanentError saying why not."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise PermanentError(
                f"until must be an ISO 8601 time such as 2026-01-19T12:00:00Z, "
                f"got {_shown(value)}") from None
    else:
        raise PermanentError(f"until must be an ISO 8601 time, got {_shown(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
