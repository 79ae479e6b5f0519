"""Which runs a person means: the state, node and time filters of the run list and of
bulk replay, read from query parameters, a JSON body or CLI options, with errors that
name the field.

Times are ISO 8601 (``2026-03-01T12:00:00Z``) or a span back from now (``90s``,
``30m``, ``1h``, ``2d``), so "the failed runs of the last hour" is ``since=1h``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from incidentflow.errors import InvalidInput, Problem
from incidentflow.store.port import RunFilter

STATES = ("running", "succeeded", "failed")
_SPAN = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_IDS = 1000


def parse_time(value: Any, field: str, now: datetime) -> datetime | None:
    """An absolute time or a span back from ``now``; None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _invalid(field, "must be a string: a time (2026-03-01T12:00:00Z) or a span "
                              "back from now (30m, 1h, 2d)")
    span = _SPAN.match(value)
    if span:
        return now - timedelta(seconds=int(span[1]) * _UNIT_SECONDS[span[2]])
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(field, f"{value!r} is neither a time (2026-03-01T12:00:00Z) nor a "
                              "span back from now (30m, 1h, 2d)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_states(value: Any, field: str = "state") -> tuple[str, ...]:
    """``failed``, ``failed,running`` or a list of them; empty means every state."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise _invalid(field, "must be a state or a list of states")
    states = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise _invalid(field, f"unknown state {unknown[0]!r} (one of {', '.join(STATES)})")
    return states


def run_filter(canvas: str, params: Mapping[str, Any], now: datetime) -> RunFilter:
    """The filter ``params`` describe (keys ``state``, ``node``, ``since``, ``until``)."""
    node = params.get("node")
    if node is not None and not isinstance(node, str):
        raise _invalid("node", "must be a node name")
    since = parse_time(params.get("since"), "since", now)
    until = parse_time(params.get("until"), "until", now)
    if since is not None and until is not None and since >= until:
        raise _invalid("until", "must be later than since")
    return RunFilter(canvas=canvas, states=parse_states(params.get("state")),
                     node=(node or "").strip() or None, since=since, until=until)


def run_ids(value: Any, field: str = "ids") -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(
            isinstance(i, str) and i for i in value):
        raise _invalid(field, "must be a non-empty list of run ids")
    if len(value) > MAX_IDS:
        raise _invalid(field, f"at most {MAX_IDS} run ids at a time")
    return tuple(dict.fromkeys(value))


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field} {message}", [Problem(message, field=field)])
