"""Approvals and cancelling through the API: approve, reject, what waits for you, and
cancelling a run."""

from __future__ import annotations

import typer

from incidentflow.cli.app import JSON_OPTION, api_client, app, emit, out, runs_app, table


@runs_app.command("cancel")
def runs_cancel(run_id: str, as_json: bool = JSON_OPTION) -> None:
    """Cancel a run that is running or waiting (a wait, an approval, a queued retry)."""
    with api_client() as client:
        answer = client.approvals.cancel(run_id)
    emit(as_json, answer, lambda: out.print(f"run {run_id} cancelled", highlight=False))


COMMENT_OPTION = typer.Option(None, "--comment", help="Why (shown with the decision).")


@app.command("approve")
def approve(run_id: str, node: str, comment: str | None = COMMENT_OPTION,
            as_json: bool = JSON_OPTION) -> None:
    """Approve what a run waits for at an approval node (as the token's name)."""
    _decide(run_id, node, "approve", comment, as_json)


@app.command("reject")
def reject(run_id: str, node: str, comment: str | None = COMMENT_OPTION,
           as_json: bool = JSON_OPTION) -> None:
    """Reject what a run waits for at an approval node (as the token's name)."""
    _decide(run_id, node, "reject", comment, as_json)


def _decide(run_id: str, node: str, decision: str, comment: str | None,
            as_json: bool) -> None:
    with api_client() as client:
        answer = client.approvals.decide(run_id, node, decision, comment)
    emit(as_json, answer, lambda: out.print(
        f"{node} of run {run_id}: {answer['decision']} by {answer['by']}", highlight=False,
        soft_wrap=True))


@app.command("approvals")
def approvals(as_json: bool = JSON_OPTION) -> None:
    """Approvals waiting for you (your token's name is an approver, or none is named)."""
    with api_client() as client:
        waiting = client.approvals.waiting()

    def render() -> None:
        grid = table("run", "canvas", "node", "message", "until")
        for a in waiting:
            grid.add_row(a["runId"], a["canvas"], a["node"], a.get("message") or "",
                         a.get("until") or "no timeout")
        out.print(grid)

    emit(as_json, waiting, render)
