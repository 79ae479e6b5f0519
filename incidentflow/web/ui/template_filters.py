"""Small helpers the templates use: URLs, time, JSON, state badges."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from incidentflow.crypto import MASK
from incidentflow.web.run_views import incident_of
from incidentflow.web.ui.icons import icon_svg
from incidentflow.web.ui.run_display import run_labels
from incidentflow.web.ui.timeline import seconds_label


def url_part(value: str) -> str:
    return quote(value, safe="")


def canvas_url(canvas: str, *rest: str) -> str:
    return "/canvases/" + "/".join([url_part(canvas), *(url_part(r) for r in rest)])


def node_url(canvas: str, node: str) -> str:
    return canvas_url(canvas, "nodes", node)


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False, default=str)


def when(value: Any) -> str:
    """A timestamp as ``2026-01-19 12:00:05 UTC``; ``—`` when missing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def iso_time(value: Any) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value or "")


def state_class(state: str | None) -> str:
    return {
        "succeeded": "ok",
        "ready": "ok",
        "accepted": "ok",
        "failed": "bad",
        "error": "bad",
        "rejected": "bad",
        "running": "busy",
        "queued": "busy",
        "held": "bad",  # waiting for a person: the node's rate limit tripped
        "paused": "busy",
    }.get(state or "", "muted")


def plural(noun: str) -> str:
    """English plural of a resource type's name: severity → severities."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def masked(value: Any) -> Any:
    return MASK if value else value


GLOBALS = {
    "icon_svg": icon_svg,
    "canvas_url": canvas_url,
    "node_url": node_url,
    "url_part": url_part,
    "incident_of": incident_of,  # the incident a run's trigger event is about
    "run_labels": run_labels,  # run id -> the shortest distinct form on this page
}
FILTERS = {
    "seconds": seconds_label,
    "pretty_json": pretty_json,
    "when": when,
    "iso_time": iso_time,
    "state_class": state_class,
    "url_part": url_part,
    "plural": plural,
}
