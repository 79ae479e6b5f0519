"""People in the loop: the waiting-for-you list, deciding an approval, cancelling a run,
and what a run waits for on its page (plain forms: they work without JavaScript).

Who decides is the signed-in person's name: "admin" for the admin token, else the name
of the API token they signed in with (docs/time.md). Refusals (not an approver,
decided already, timed out, the run has ended) are shown with the reason.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from incidentflow.approvals import Approvals, Decision, approvers_of, decision_in, may_decide
from incidentflow.components.approval import KIND
from incidentflow.errors import Conflict, Forbidden, InvalidInput, NotFound
from incidentflow.store.port import RunRecord
from incidentflow.web.ui.context import quoted, redirect, ui
from incidentflow.web.ui.session import TOKEN_WHO_PREFIX
from incidentflow.web.waiting import waiting_items

NOTICES = {
    "approved": "Approved. The run goes on by its approved channel.",
    "rejected": "Rejected. The run goes on by its rejected channel.",
    "run-cancelled": "Run cancelled. Nothing it had queued will run.",
}
BACK_TO_LIST = "approvals"


async def person(request: Request) -> str:
    """The signed-in person's name, as decisions record it."""
    who = str(request.state.session.who)
    if not who.startswith(TOKEN_WHO_PREFIX):
        return who
    context = ui(request)
    record = await context.db.get_token(who.removeprefix(TOKEN_WHO_PREFIX))
    return str(record.name)


async def approvals_page(request: Request) -> Response:
    context = ui(request)
    who = await person(request)
    waiting = await Approvals(context.host).waiting_for(who)
    return context.page(request, "approvals.html", {
        "title": "Waiting for you", "waiting": waiting, "who": who,
        "approvers_of": approvers_of, "notice": NOTICES.get(request.query_params.get("done", "")),
    })


async def decide(request: Request) -> Response:
    context = ui(request)
    form = await context.form(request)
    run_id, node = request.path_params["run_id"], request.path_params["node"]
    try:
        decision: Decision = decision_in({"decision": form.get("decision"),
                                          "comment": form.get("comment") or None})
        await Approvals(context.host).decide(run_id, node, decision, await person(request))
    except InvalidInput as exc:
        raise HTTPException(400, f"{exc}: {', '.join(str(p) for p in exc.problems)}") from None
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    if form.get("back") == BACK_TO_LIST:
        return redirect(request, "/approvals", done=decision.decision)
    return redirect(request, f"/runs/{quoted(run_id)}", done=decision.decision)


async def cancel_run(request: Request) -> Response:
    context = ui(request)
    await context.form(request)
    run_id = request.path_params["run_id"]
    try:
        await Approvals(context.host).cancel(run_id, await person(request))
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    return redirect(request, f"/runs/{quoted(run_id)}", done="run-cancelled")


async def run_waiting(request: Request, run: RunRecord) -> dict[str, Any]:
    """What the run page's waiting panel (``_run_waiting.html``) needs."""
    context = ui(request)
    try:
        waits = await context.db.run_waits(run.id)
    except NotFound:
        waits = []
    who = await person(request)
    by_execution = {w.execution_id: w for w in waits}
    decidable = {w.execution_id for w in waits
                 if w.settled_at is None and w.waiting.kind == KIND and may_decide(w, who)}
    return {
        "waiting": waiting_items(run, waits),
        "waits_by_execution": by_execution,
        "decidable": decidable,
        "approvers_of": approvers_of,
        "can_cancel": run.state == "running",
        "waiting_notice": NOTICES.get(request.query_params.get("done", "")),
    }
