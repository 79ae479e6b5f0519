"""Runs of a canvas (filtered, paged, selectable for replay) and one run in detail
(error first, replay and retry, attempts, a timeline), with the incidents it touched.
Bulk replay's confirmation and progress: ``web/ui/pages_replays.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.errors import Conflict, InvalidInput
from incidentflow.recovery import Recovery
from incidentflow.run_filters import run_filter
from incidentflow.store.port import ExecutionRecord, RunRecord
from incidentflow.web.presenters import displayable_run
from incidentflow.web.run_views import attempts_of, incident_of, stops
from incidentflow.web.ui.context import UiContext, redirect, ui
from incidentflow.web.ui.pages_waiting import run_waiting
from incidentflow.web.ui.run_display import run_labels
from incidentflow.web.ui.template_filters import canvas_url
from incidentflow.web.ui.timeline import KINDS, build_timeline

PAGE_SIZE = 50
SINCE_CHOICES = (("", "any time"), ("1h", "last hour"), ("6h", "last 6 hours"),
                 ("24h", "last 24 hours"), ("7d", "last 7 days"))


@dataclass(frozen=True)
class IncidentLink:
    reference: str
    permalink: str | None
    name: str | None


async def run_list(request: Request) -> Response:
    context = ui(request)
    name = request.path_params["name"]
    record = await context.db.get_canvas(name)
    params = request.query_params
    try:
        where = run_filter(name, params, context.host.clock())
        problem = None
    except InvalidInput as exc:  # shown above the list, which falls back to everything
        where, problem = run_filter(name, {}, context.host.clock()), exc
    before = params.get("before") or None
    page = await context.db.find_runs(where, PAGE_SIZE, before)
    chosen = {key: params.get(key, "") for key in ("state", "node", "since", "until")}
    here = canvas_url(name, "runs")
    kept = {key: value for key, value in chosen.items() if value}
    return context.page(request, "runs.html", {
        "title": f"Runs · {name}",
        "record": record,
        "runs": page.runs,
        "page": page,
        "before": before,
        "chosen": chosen if problem is None else {},
        "problem": problem,
        "filtered": any(chosen.values()) and problem is None,
        "since_choices": SINCE_CHOICES,
        "nodes": [n.name for n in record.canvas.nodes],
        "selectable": True,
        "newest_url": f"{here}?{urlencode(kept)}",
        "older_url": f"{here}?{urlencode({**kept, 'before': page.next_before or ''})}",
        "live": before is None and any(r.state == "running" for r in page.runs),
    }, 422 if problem is not None else 200)


async def run_page(request: Request) -> Response:
    context = ui(request)
    stored = await context.db.get_run(request.path_params["run_id"])
    run: RunRecord = displayable_run(stored)
    executions = [
        {"record": e, "emitted": [_event_dict(x) for x in e.emitted],
         "incidents": incidents_of(e), "attempts": attempts_of(e)}
        for e in run.executions
    ]
    return context.page(request, "run.html", {
        "title": f"Run {run.id}",
        "run": run,
        "executions": executions,
        "failures": [e for e in run.executions if e.state == "failed"],
        "stops": stops(run),
        "timeline": build_timeline(run, context.host.clock()),
        "timeline_kinds": KINDS,
        "root": _event_dict({"event": run.root}),
        "root_incident": incident_of(run.root),
        "labels": run_labels([run]),
        "live": run.state == "running",
        **await run_waiting(request, run),  # the _run_waiting.html panel
    })


async def replay_run(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    run_id = request.path_params["run_id"]
    try:
        new_id = await Recovery(context.host).replay_run(run_id)
    except (Conflict, InvalidInput) as exc:
        return refused(context, request, "Cannot replay this run", exc)
    return redirect(request, f"/runs/{new_id}", notice="replayed")


async def retry_execution(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    run_id, execution_id = request.path_params["run_id"], request.path_params["execution_id"]
    try:
        await Recovery(context.host).retry_execution(run_id, execution_id)
    except (Conflict, InvalidInput) as exc:
        return refused(context, request, "Cannot retry this execution", exc)
    return redirect(request, f"/runs/{run_id}", notice="retried")


def refused(context: UiContext, request: Request, title: str, exc: Exception) -> Response:
    status = 409 if isinstance(exc, Conflict) else 422
    return context.page(request, "error.html", {"title": title, "message": str(exc)}, status)


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
    found = [_incident_link(_event_dict(x)["event"]) for x in execution.emitted]
    return [link for link in found if link is not None]


def _incident_link(event: Any) -> IncidentLink | None:
    data = event.get("data") if isinstance(event, dict) else None
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
