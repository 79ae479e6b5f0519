"""The event envelope: ``{"type", "timestamp", "data"}``.

A contract: docs/design-rules.md, "Event envelope".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# A delivery that started nothing because its trigger's own filters kept it out gives a
# reason starting with this (``components.base.WebhookVerdict``): the delivery log
# records and counts it as "filtered", not "ignored". Here, with the events, so the
# components and the store share it without either importing the other.
FILTERED_REASON = "filtered: "


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    type: str
    data: Any
    timestamp: str = field(default_factory=lambda: iso(utcnow()))

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "timestamp": self.timestamp, "data": self.data}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        return cls(type=raw["type"], data=raw.get("data"), timestamp=raw["timestamp"])
