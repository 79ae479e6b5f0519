"""Bulk replay in the UI: the runs chosen on the run list (ticked ones, or every run
the filter matches, e.g. the failed runs of the last hour), a confirmation that says
how many, then a progress page that follows the new runs until they are done."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from incidentflow.errors import Conflict, InvalidInput
from incidentflow.recovery import MAX_BULK, Recovery
from incidentflow.run_filters import run_filter, run_ids
from incidentflow.store.port import RunFilter
from incidentflow.web.ui.context import redirect, ui
from incidentflow.web.ui.pages_runs import refused
from incidentflow.web.ui.run_display import run_labels

FILTER_FIELDS = ("state", "node", "since", "until")


async def replay_runs(request: Request) -> Response:
    """First post: the confirmation; the confirmed post starts the replays."""
    context = ui(request)
    form = await context.form(request)
    name = request.path_params["name"]
    record = await context.db.get_canvas(name)
    recovery = Recovery(context.host)
    try:
        where = _selection(name, form, context.host.clock())
        if form.get("confirmed") != "yes":
            ids, matched = await recovery.matching(where)
            return context.page(request, "replay_confirm.html", {
                "title": f"Replay runs · {name}", "record": record, "count": len(ids),
                "matched": matched, "max": MAX_BULK, "fields": _hidden_fields(form),
            })
        bulk = await recovery.replay_many(where)
    except (Conflict, InvalidInput) as exc:
        return refused(context, request, "Cannot replay these runs", exc)
    more = max(bulk.matched - len(bulk.run_ids) - len(bulk.skipped), 0)
    return redirect(request, f"/canvases/{name}/replays/{bulk.batch}",
                    skipped=str(len(bulk.skipped)), more=str(more))


def _selection(name: str, form: FormData, now: datetime) -> RunFilter:
    if form.get("scope") == "ids":
        ticked = [value for value in form.getlist("ids") if isinstance(value, str)]
        if not ticked:
            raise InvalidInput("tick the runs to replay first")
        return replace(run_filter(name, {}, now), ids=run_ids(ticked))
    chosen = {key: form.get(key) or None for key in FILTER_FIELDS}
    where = run_filter(name, chosen, now)
    if not (where.states or where.since or where.node):
        raise InvalidInput("choose a state, node or time window first")
    return where


def _hidden_fields(form: FormData) -> list[tuple[str, str]]:
    """The selection again, for the confirmed post."""
    keep = ("scope", "ids", *FILTER_FIELDS)
    return [(key, value) for key, value in form.multi_items()
            if key in keep and isinstance(value, str) and value]


async def replay_progress(request: Request) -> Response:
    context = ui(request)
    name, batch = request.path_params["name"], request.path_params["batch"]
    record = await context.db.get_canvas(name)
    progress = await Recovery(context.host).progress(batch)
    runs = await context.db.replay_batch(batch)
    params = request.query_params
    return context.page(request, "replays.html", {
        "title": f"Bulk replay · {name}", "record": record, "progress": progress,
        "runs": runs, "labels": run_labels(runs),
        "skipped": _count(params.get("skipped")), "more": _count(params.get("more")),
        "live": progress.done < progress.total,
    })


def _count(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 7 else 0
