"""Runs of a canvas and one run in detail, with the incidents it touched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.store.port import ExecutionRecord, RunRecord
from incidentflow.web.ui.context import ui
from incidentflow.web.ui.pages_waiting import run_waiting
from incidentflow.web.views import displayable_run

RUNS_SHOWN = 50


@dataclass(frozen=True)
class IncidentLink:
    reference: str
    permalink: str | None
    name: str | None


async def run_list(request: Request) -> Response:
    context = ui(request)
    name = request.path_params["name"]
    record = await context.call(context.host.store.get_canvas, name)
    runs = await context.call(context.host.store.list_runs, name, RUNS_SHOWN)
    return context.page(
        request,
        "runs.html",
        {
            "title": f"Runs · {name}",
            "record": record,
            "runs": runs,
            "live": any(r.state == "running" for r in runs),
        },
    )


async def run_page(request: Request) -> Response:
    context = ui(request)
    stored = await context.call(context.host.store.get_run, request.path_params["run_id"])
    run: RunRecord = displayable_run(stored)
    executions = [
        {"record": e, "emitted": [_event_dict(x) for x in e.emitted], "incidents": incidents_of(e)}
        for e in run.executions
    ]
    return context.page(
        request,
        "run.html",
        {
            "title": f"Run {run.id[:12]}",
            "run": run,
            "executions": executions,
            "root": _event_dict({"event": run.root}),
            "root_incident": _incident_link(run.root.as_dict(), nested=True),
            "live": run.state == "running",
            **await run_waiting(request, run),  # the _run_waiting.html panel
        },
    )


def _event_dict(emitted: Any) -> dict[str, Any]:
    """``{"channel", "event": {...}}`` whatever the store handed us."""
    if isinstance(emitted, dict) and "event" in emitted:
        event = emitted["event"]
        channel = emitted.get("channel", "default")
    else:
        event, channel = emitted, "default"
    if hasattr(event, "as_dict"):
        event = event.as_dict()
    return {"channel": channel, "event": event}


def incidents_of(execution: ExecutionRecord) -> list[IncidentLink]:
    """Incidents an execution emitted (an event whose data is an incident: it carries a
    ``reference``). Pass-through events of a trigger's incident are not counted."""
    found = [_incident_link(_event_dict(x)["event"], nested=False) for x in execution.emitted]
    return [link for link in found if link is not None]


def _incident_link(event: Any, *, nested: bool) -> IncidentLink | None:
    data = event.get("data") if isinstance(event, dict) else None
    if nested and isinstance(data, dict):
        data = data.get("incident", data)
    if not isinstance(data, dict) or not data.get("reference"):
        return None
    permalink = data.get("permalink")
    return IncidentLink(
        reference=str(data["reference"]),
        permalink=permalink if _is_web_url(permalink) else None,
        name=data.get("name"),
    )


def _is_web_url(value: Any) -> bool:
    """Only http(s) links are rendered as links (a javascript: URL would be a hole)."""
    return isinstance(value, str) and value.startswith(("https://", "http://"))
