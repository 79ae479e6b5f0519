"""Deciding approvals and cancelling waiting runs: what the API, the UI and the CLI share.

A decision names the run and the approval node; it is checked here (the decision and
comment are well-formed, the person is one of the node's approvers) and then recorded
by the store's conditional update, which accepts the first decision only and none
after the timeout (``store.waits``). Who decided is the API token's or the signed-in
person's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from incidentflow.components.approval import APPROVED, KIND, REJECTED
from incidentflow.components.base import Wait
from incidentflow.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from incidentflow.events import iso

if TYPE_CHECKING:

    from incidentflow.app_service import AppService

T = TypeVar("T")
DECISIONS = {"approve": APPROVED, "reject": REJECTED}
MAX_COMMENT = 2000
LISTED = 200


@dataclass(frozen=True)
class Decision:
    decision: str  # "approved" or "rejected"
    comment: str | None


def decision_in(body: dict[str, Any]) -> Decision:
    """``{"decision": "approve"|"reject", "comment": "..."}`` checked, naming the field."""
    problems = []
    decision = body.get("decision")
    if not isinstance(decision, str) or decision not in DECISIONS:
        problems.append(Problem('must be "approve" or "reject"', field="decision"))
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        problems.append(Problem("must be text", field="comment"))
    elif isinstance(comment, str) and len(comment) > MAX_COMMENT:
        problems.append(Problem(f"must be at most {MAX_COMMENT} characters", field="comment"))
    if problems:
        raise InvalidInput("invalid decision", problems)
    return Decision(DECISIONS[str(decision)], (comment or "").strip() or None)


def approvers_of(wait: Wait) -> list[str]:
    approvers = wait.waiting.detail.get("approvers")
    return [str(name) for name in approvers] if isinstance(approvers, list) else []


def may_decide(wait: Wait, who: str) -> bool:
    """Anyone signed in when the node names no approvers; else only those named."""
    approvers = approvers_of(wait)
    return not approvers or who in approvers


class Approvals:
    def __init__(self, host: AppService):
        self.host = host
        self.db = host.db

    async def decide(self, run_id: str, node: str, decision: Decision, who: str) -> Wait:
        """Record ``who``'s decision on the open approval of ``node`` in the run.
        NotFound: no such run or approval; Forbidden: not an approver; Conflict:
        decided already, or its time has passed."""
        approvals = [w for w in await self.db.run_waits(run_id)
                     if w.node == node and w.waiting.kind == KIND]
        if not approvals:
            await self.db.get_run(run_id)  # NotFound for an unknown run
            raise NotFound(f"run {run_id!r} has no approval waiting at node {node!r}")
        pending = [w for w in approvals if w.settled_at is None]
        if not pending:
            raise Conflict(_closed(approvals[-1]))
        wait = pending[0]
        if not may_decide(wait, who):
            raise Forbidden(f"{who!r} is not one of the approvers of {node!r} "
                            f"({', '.join(approvers_of(wait))})")
        now = self.host.clock()
        outcome = {"decision": decision.decision, "by": who, "at": iso(now),
                   "comment": decision.comment}
        if not await self.db.settle_wait(wait.execution_id, outcome, now):
            # Someone else's decision won the race, or the time passed: say which.
            again = [w for w in await self.db.run_waits(run_id)
                     if w.execution_id == wait.execution_id]
            raise Conflict(_closed(again[0] if again else wait))
        return wait

    async def cancel(self, run_id: str, who: str) -> None:
        """Cancel a run that is still running or waiting (Conflict once it ended)."""
        await self.db.cancel_run(run_id, who, self.host.clock())

    async def waiting_for(self, who: str) -> list[Wait]:
        """Open approvals ``who`` may decide, oldest first."""
        found = await self.db.open_waits(KIND, LISTED)
        return [w for w in found if may_decide(w, who)]


def _closed(wait: Wait) -> str:
    outcome = wait.outcome or {}
    if wait.timed_out or wait.settled_at is None:  # unsettled: past its time
        return f"the approval at {wait.node!r} timed out; it can no longer be decided"
    if outcome.get("cancelled"):
        return f"the run of the approval at {wait.node!r} was cancelled"
    if "decision" in outcome:
        return (f"the approval at {wait.node!r} was already decided: "
                f"{outcome['decision']} by {outcome.get('by')}")
    return f"the approval at {wait.node!r} was already decided"
