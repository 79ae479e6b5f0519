"""What a waiting step waits for (``Waiting``) and a stored wait (``Wait``): the records
shared by the waiting components, the engine and the store, so the store needs nothing
from ``components``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Waiting:
    """What a waiting step waits for, in words a person reads on the run page
    ("approval: Publish the status page?" until 12:00) and in the kind's own terms.

    Every waiting kind (``approval``, ``waitForEvent``, ...) describes itself this way;
    the engine stores it (``store.waits``), keeps the execution queued until ``until``
    (its timeout; None: no timeout) and runs the step again when the wait is settled
    (a decision, a matching event) or its time has come."""

    kind: str  # "approval", "event", ...
    summary: str
    until: datetime | None
    detail: dict[str, Any] = field(default_factory=dict)
    # What finds this wait without a scan (indexed with kind and canvas among the open
    # waits): e.g. the event type a ``waitForEvent`` waits for. None for approvals,
    # which are found by run and node.
    key: str | None = None



@dataclass(frozen=True)
class Wait:
    """A stored wait: what the step asked for and how it was settled (once)."""

    execution_id: str
    run_id: str
    canvas: str
    node: str
    waiting: Waiting
    began_at: datetime
    settled_at: datetime | None = None
    # The kind's result: an approval's decision, a matched event; ``{"timeout": true}``
    # when its time passed first, ``{"cancelled": true}`` when its run was cancelled.
    outcome: dict[str, Any] | None = None

    @property
    def timed_out(self) -> bool:
        return bool(self.outcome and self.outcome.get("timeout") is True)
