"""Example events from the seed, shown in the UI and used to preview expressions.

``*-minimal.json`` are the same events with only the fields incident.io guarantees:
the fields listed as ``required`` in its OpenAPI schema (``WebhookIncidentV2`` for
deliveries, ``IncidentV2`` for what creating one returns), nested objects cut the same
way, lists empty. Previews run against both, so an expression reading an optional
field (``summary``, ``severity``, ``permalink``...) is flagged before a run fails on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(name: str) -> dict[str, Any]:
    """``load("on-incident")`` → the parsed ``examples/on-incident.json`` envelope."""
    data: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    return data
