"""The ``schedule`` trigger: start a run at the times of a five-field cron expression.

The scheduler (``engine.scheduler``, inside every worker) fires it; this class declares
the node type, checks its fields when the canvas is saved and computes due times
(``croniter`` for cron, ``zoneinfo`` for time zones: "0 9 * * 1-5" in Europe/Paris
means 9:00 Paris time, summer or winter).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, croniter

from incidentflow.components.base import Component, Field
from incidentflow.errors import Problem

FIRED = "schedule.fired"
CRON, TIMEZONE, CATCH_UP = "cron", "timezone", "catchUpMinutes"


class Schedule(Component):
    type = "schedule"
    label = "Schedule"
    description = "Start a run at the times of a cron expression (e.g. every weekday at 9:00)."
    icon = "⏰"
    role = "trigger"
    fields = (
        Field(CRON, "text", "Cron", required=True,
              description='Five fields: minute hour day-of-month month day-of-week, e.g. '
                          '"*/15 * * * *" (every 15 minutes) or "0 9 * * 1-5".'),
        Field(TIMEZONE, "text", "Time zone", default="UTC",
              description="IANA name the cron times are read in, e.g. Europe/Paris."),
        Field(CATCH_UP, "number", "Catch up (minutes)", default=0,
              description="A time missed while incidentflow was down still fires once "
                          "if it is less than this old; 0: skip it (recorded)."),
    )
    example_output: ClassVar[dict[str, Any] | None] = {
        "type": FIRED,
        "timestamp": "2026-01-19T12:00:00Z",
        "data": {"scheduled_for": "2026-01-19T12:00:00Z", "fired_at": "2026-01-19T12:00:00Z"},
    }

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        if message := cron_problem(config.get(CRON)):
            problems.append(Problem(message, node, CRON))
        if message := zone_problem(config.get(TIMEZONE, "UTC")):
            problems.append(Problem(message, node, TIMEZONE))
        catch_up = config.get(CATCH_UP, 0)
        if not isinstance(catch_up, int) or isinstance(catch_up, bool) or catch_up < 0:
            problems.append(Problem("must be a whole number of minutes, 0 or more", node,
                                    CATCH_UP))
        return problems


def cron_problem(expression: Any) -> str | None:
    if not isinstance(expression, str) or len(expression.split()) != 5:
        return ("must be a five-field cron expression (minute hour day-of-month month "
                "day-of-week), e.g. \"*/15 * * * *\"")
    try:
        croniter(expression)
    except (CroniterBadCronError, ValueError, KeyError) as exc:
        return f"is not a valid cron expression: {exc}"
    return None


def zone_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be an IANA time zone name such as UTC or Europe/Paris"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}; use an IANA name such as UTC or Europe/Paris"
    return None


def next_times(cron: str, timezone: str, after: datetime, count: int) -> list[datetime]:
    """The ``count`` due times strictly after ``after``, in UTC."""
    times = croniter(cron, after.astimezone(ZoneInfo(timezone)))
    return [times.get_next(datetime).astimezone(UTC) for _ in range(count)]


def latest_due(cron: str, timezone: str, now: datetime) -> datetime:
    """The latest due time at or before ``now``, in UTC."""
    zone = ZoneInfo(timezone)
    due: datetime = croniter(cron, now.astimezone(zone)).get_prev(datetime)
    if croniter.match(cron, now.astimezone(zone).replace(second=0, microsecond=0)) \
            and now.second == 0 and now.microsecond == 0:
        due = now.astimezone(zone)
    return due.astimezone(UTC)
