"""On Incident's ``catchUp`` option: ``{enabled, everyMinutes}`` (default off).

When on, the worker polls ``GET /v2/incidents`` every ``everyMinutes`` for incidents
updated since the last one seen and starts the runs whose webhook never arrived (the
poll itself: ``engine/catch_up.py``; the rows that make each change run once:
``store/catch_up.py``). It needs the node's incident integration (an API key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from incidentflow.components.base import Field
from incidentflow.errors import Problem
from incidentflow.events import iso

NAME = "catchUp"
DEFAULT_MINUTES = 5
MAX_MINUTES = 24 * 60

FIELD = Field(
    NAME, "object", "Catch up on lost webhooks", default={"enabled": False},
    description="{enabled: true, everyMinutes: 5}: poll incident.io for incidents updated "
    "since the last one seen and start the runs whose webhook never arrived (once per "
    "incident and updated_at, whichever comes first). Needs the integration.",
)


@dataclass(frozen=True)
class CatchUp:
    enabled: bool
    every_minutes: int


def read(config: Mapping[str, Any]) -> CatchUp:
    """The option as set (call on a configuration ``problems`` found nothing wrong in)."""
    raw = config.get(NAME)
    if not isinstance(raw, Mapping):
        return CatchUp(False, DEFAULT_MINUTES)
    minutes = raw.get("everyMinutes", DEFAULT_MINUTES)
    return CatchUp(raw.get("enabled") is True,
                   minutes if isinstance(minutes, int) else DEFAULT_MINUTES)


def problems(node: str, config: Mapping[str, Any]) -> list[Problem]:
    raw = config.get(NAME)
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [Problem("must be an object {enabled, everyMinutes}", node, NAME)]
    found = []
    unknown = sorted(set(raw) - {"enabled", "everyMinutes"})
    if unknown:
        found.append(Problem(f"unknown key {unknown[0]!r} (known: enabled, everyMinutes)",
                             node, f"{NAME}.{unknown[0]}"))
    if not isinstance(raw.get("enabled", False), bool):
        found.append(Problem("must be true or false", node, f"{NAME}.enabled"))
    minutes = raw.get("everyMinutes", DEFAULT_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not (
            1 <= minutes <= MAX_MINUTES):
        found.append(Problem(f"must be a whole number of minutes from 1 to {MAX_MINUTES}",
                             node, f"{NAME}.everyMinutes"))
    return found


def polls(node_type: str, config: Mapping[str, Any]) -> bool:
    """Does this node's catch-up poll run (so its webhooks claim their changes)?"""
    return node_type == "incident.onIncident" and read(config).enabled


def change_of(data: Any) -> tuple[str, str] | None:
    """(incident id, updated_at) of an On Incident event's data: what a webhook and the
    poll are deduplicated on. None for a private delivery's pointer (no updated_at):
    fetched later, it may run beside a poll of the same change."""
    incident = data.get("incident") if isinstance(data, dict) else None
    if not isinstance(incident, dict):
        return None
    found, updated = incident.get("id"), incident.get("updated_at")
    return (found, updated) if isinstance(found, str) and isinstance(updated, str) else None


def view(config: Mapping[str, Any], state: Any) -> dict[str, Any]:
    """The catch-up poll as the node shows it (last poll, runs it started)."""
    return {
        "everyMinutes": read(config).every_minutes,
        "lastPollAt": iso(state.last_poll_at) if state else None,
        "found": state.last_found if state else 0,
        "since": iso(state.since) if state else None,
        "error": state.last_error if state else None,
    }
