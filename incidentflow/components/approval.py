"""The ``approval`` step: ask people, go on by what they decided (or by the timeout).

The step runs twice. The first time it only describes its wait (``WaitBegins``): the
engine records it, frees the worker slot and keeps the execution queued until the
timeout (``store.waits``). A decision (API, UI, CLI: ``approvals.py``) settles the wait
once and makes the execution due; the step then runs again, finds the settled wait in
``ctx.waited`` and emits ``approval.decided`` on ``approved``, ``rejected`` or
``timeout``. Who may decide is checked where the decision comes in, not here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from incidentflow.components.base import (
    Component,
    Emission,
    ExecutionContext,
    Field,
    Wait,
    WaitBegins,
    Waiting,
)
from incidentflow.components.wait import MAX_SECONDS
from incidentflow.errors import PermanentError, Problem
from incidentflow.events import Event, iso

KIND = "approval"
EVENT_TYPE = "approval.decided"
MESSAGE, APPROVERS, TIMEOUT = "message", "approvers", "timeoutSeconds"
APPROVED, REJECTED, TIMED_OUT = "approved", "rejected", "timeout"
SUMMARY_LIMIT = 200


class Approval(Component):
    type = "approval"
    label = "Approval"
    description = ("Ask a person to approve or reject, then go on by their decision: "
                   "channels approved, rejected and timeout. Holds no worker while it waits.")
    icon = "✋"
    channels = (APPROVED, REJECTED, TIMED_OUT)
    waits = KIND
    fields = (
        Field(MESSAGE, "template", "Message", required=True,
              description="What the approver is asked, e.g. "
                          '"Publish the status page for {{ root.data.incident.name }}?"'),
        Field(APPROVERS, "object", "Approvers",
              description="Names of the API tokens or people who may decide (a list, or "
                          "names separated by commas). Empty: anyone signed in."),
        Field(TIMEOUT, "number", "Timeout (seconds)",
              description="Go on by the timeout channel when nobody decided within this "
                          "many seconds. Empty: wait until someone decides."),
    )
    example_output = {"type": EVENT_TYPE, "timestamp": "2026-01-19T12:00:00Z",
                      "data": {"decision": APPROVED, "by": "incident-lead",
                               "at": "2026-01-19T12:00:00Z", "comment": "go ahead"}}

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        approvers = config.get(APPROVERS)
        if not (isinstance(approvers, str) and "{{" in approvers):
            try:
                approvers_from(approvers)
            except PermanentError as exc:
                problems.append(Problem(str(exc), node, APPROVERS))
        if config.get(TIMEOUT) is not None:
            try:
                timeout_from(config[TIMEOUT])
            except PermanentError as exc:
                problems.append(Problem(str(exc), node, TIMEOUT))
        return problems

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        waited = ctx.waited
        if waited is None:
            raise WaitBegins(_waiting(ctx))
        if waited.settled_at is None:  # woken before it was settled: wait on
            raise WaitBegins(waited.waiting)
        decided = decision_of(waited)
        return [Emission(Event(EVENT_TYPE, decided, timestamp=decided["at"]),
                         channel=decided["decision"])]


def _waiting(ctx: ExecutionContext) -> Waiting:
    message = str(ctx.config.get(MESSAGE) or "")
    approvers = approvers_from(ctx.config.get(APPROVERS))
    timeout = ctx.config.get(TIMEOUT)
    until = ctx.now + timedelta(seconds=timeout_from(timeout)) if timeout is not None else None
    summary = message if len(message) <= SUMMARY_LIMIT else message[:SUMMARY_LIMIT - 1] + "…"
    return Waiting(KIND, f"approval: {summary}", until,
                   {"message": message, "approvers": approvers})


def decision_of(waited: Wait) -> dict[str, Any]:
    """The ``approval.decided`` data of a settled wait."""
    outcome = waited.outcome or {}
    if waited.timed_out:
        at = waited.waiting.until or waited.settled_at
        return {"decision": TIMED_OUT, "by": None, "at": iso(at) if at else None,
                "comment": None}
    if outcome.get("decision") not in (APPROVED, REJECTED):
        raise PermanentError(f"the approval was settled without a decision: {outcome!r}")
    return {"decision": outcome["decision"], "by": outcome.get("by"),
            "at": outcome.get("at"), "comment": outcome.get("comment")}


def approvers_from(value: Any) -> list[str]:
    """``approvers`` as a list of names: a list of strings or a comma-separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        names = value
    else:
        raise PermanentError("approvers must be a list of names, or names separated by "
                             "commas")
    return [name.strip() for name in names if name.strip()]


def timeout_from(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PermanentError(f"timeoutSeconds must be a number of seconds, got {value!r}")
    if not 0 < value <= MAX_SECONDS:
        raise PermanentError(f"timeoutSeconds must be more than 0 and at most {MAX_SECONDS} "
                             f"(a year), got {value!r}")
    return float(value)
