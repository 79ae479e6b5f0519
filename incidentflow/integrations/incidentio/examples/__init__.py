"""Example events from the seed, shown in the UI and used to preview expressions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(name: str) -> dict[str, Any]:
    """``load("on-incident")`` → the parsed ``examples/on-incident.json`` envelope."""
    data: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    return data
