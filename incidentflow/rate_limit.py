"""The rate limit of actions that create things elsewhere (a contract).

An action whose component sets ``creates`` (Create Incident, and every future
create/page/escalate action) may run at most ``max`` times per ``per`` seconds per
node. A node sets its own figures beside ``concurrencyKey``::

    - name: Create
      type: incident.createIncident
      rateLimit: {max: 10, per: 60}

Nodes without one use the global default (``INCIDENTFLOW_CREATE_RATE_LIMIT_MAX`` and
``INCIDENTFLOW_CREATE_RATE_LIMIT_PER_SECONDS``, 10 per 60 s). Past the limit the node
*trips*: its executions are held until a person resumes it (``engine.rate_gate``,
``store.node_limits``; see ``docs/rate-limits.md``).

This module is the value and its validation only: pure, used by ``canvas.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incidentflow.errors import Problem

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas
    from incidentflow.registry import Registry

FIELD = "rateLimit"
KEYS = ("max", "per")
DEFAULT_MAX = 10
DEFAULT_PER_SECONDS = 60.0
# Bounds that keep a typo from switching the brake off in practice.
MAX_ALLOWED = 100_000
PER_ALLOWED_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class RateLimit:
    """At most ``max`` executions that create something per ``per`` seconds."""

    max: int
    per: float

    def to_dict(self) -> dict[str, int | float]:
        per: int | float = int(self.per) if float(self.per).is_integer() else self.per
        return {"max": self.max, "per": per}

    def describe(self) -> str:
        """``10 per 60 s``: how the UI, the logs and warnings show the figures."""
        return f"{self.max} per {self.to_dict()['per']} s"


def read_rate_limit(raw: Any) -> tuple[RateLimit | None, list[tuple[str, str]]]:
    """The node-level ``rateLimit`` mapping, or (None, [(field path, message), ...])."""
    if raw is None:
        return None, []
    if not isinstance(raw, dict):
        return None, [(FIELD, "must be a mapping like {max: 10, per: 60}")]
    problems = list(_problems(raw))
    if problems:
        return None, problems
    return RateLimit(int(raw["max"]), float(raw["per"])), []


def _problems(raw: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key in raw:
        if key not in KEYS:
            yield f"{FIELD}.{key}", f"unknown field {key!r}; known: max, per"
    maximum, per = raw.get("max"), raw.get("per")
    if maximum is None:
        yield f"{FIELD}.max", "is required (how many per window, e.g. 10)"
    elif isinstance(maximum, bool) or not isinstance(maximum, int):
        yield f"{FIELD}.max", "must be a whole number"
    elif not 1 <= maximum <= MAX_ALLOWED:
        yield f"{FIELD}.max", f"must be from 1 to {MAX_ALLOWED}"
    if per is None:
        yield f"{FIELD}.per", "is required (the window in seconds, e.g. 60)"
    elif isinstance(per, bool) or not isinstance(per, int | float):
        yield f"{FIELD}.per", "must be a number of seconds"
    elif not 1 <= per <= PER_ALLOWED_SECONDS:
        yield f"{FIELD}.per", f"must be from 1 to {PER_ALLOWED_SECONDS} seconds (a week)"


def unused_limit_warnings(canvas: Canvas, registry: Registry) -> list[Problem]:
    """A ``rateLimit`` on a node that creates nothing limits nothing: say so on save
    (a warning, not a refusal: the figures may be kept for a later type change)."""
    warnings = []
    for node in canvas.nodes:
        component = registry.components.get(node.type)
        if node.rate_limit is not None and component is not None and not component.creates:
            warnings.append(Problem(
                f"has no effect: {node.type} creates nothing elsewhere, and only actions "
                "that create something are rate-limited", node=node.name, field=FIELD))
    return warnings
