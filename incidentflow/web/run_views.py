"""What a run is about and what happened in it, for the run list, the run page and the
API: the incident of its trigger event, where a run stopped early and why, and each
attempt of an execution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incidentflow.events import Event, iso
from incidentflow.store.port import AttemptRecord, ExecutionRecord, RunRecord


@dataclass(frozen=True)
class IncidentRef:
    reference: str
    name: str | None
    permalink: str | None


@dataclass(frozen=True)
class Stop:
    """A node that passed nothing on, so nothing after it ran."""

    node: str
    reason: str


def incident_of(event: Event) -> IncidentRef | None:
    """The incident a trigger event is about (On Incident's ``data.incident``; an
    event whose data is itself an incident too)."""
    data = event.data if isinstance(event.data, dict) else None
    if data is not None and isinstance(data.get("incident"), dict):
        data = data["incident"]
    if data is None or not data.get("reference"):
        return None
    name, link = data.get("name"), data.get("permalink")
    return IncidentRef(
        reference=str(data["reference"]),
        name=str(name) if isinstance(name, str) and name else None,
        # Only web links become links (a javascript: URL would be a hole).
        permalink=link if isinstance(link, str) and link.startswith(("https://", "http://"))
        else None,
    )


def stops(run: RunRecord) -> list[Stop]:
    """Executions that succeeded without emitting: the run ended there on purpose (a
    filter whose condition was false), which "succeeded" alone does not say."""
    found = []
    for execution in run.executions:
        if execution.state != "succeeded" or execution.emitted:
            continue
        config = execution.resolved_config or {}
        if config.get("expression") is False:
            reason = "its condition was false, so it passed nothing on"
        else:
            reason = "it emitted no event, so nothing after it ran"
        found.append(Stop(execution.node, reason))
    return found


def incident_view(event: Event) -> dict[str, Any] | None:
    ref = incident_of(event)
    if ref is None:
        return None
    return {"reference": ref.reference, "name": ref.name, "permalink": ref.permalink}


def attempt_view(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "outcome": attempt.outcome,
        "error": attempt.error,
        "errorDetails": attempt.error_details,
        "startedAt": iso(attempt.started_at) if attempt.started_at else None,
        "endedAt": iso(attempt.ended_at) if attempt.ended_at else None,
        "nextAttemptAt": iso(attempt.next_attempt_at) if attempt.next_attempt_at else None,
        "waitSeconds": attempt.wait_seconds,
    }


def attempts_of(execution: ExecutionRecord) -> list[AttemptRecord]:
    """Every attempt, ended ones from the history and the one running now (or the
    first-try success, which writes no history row) from the execution itself."""
    found = list(execution.attempt_history)
    recorded = {a.attempt for a in found}
    current = execution.attempts
    if current and current not in recorded and execution.state in ("running", "succeeded"):
        found.append(AttemptRecord(
            attempt=current, outcome=execution.state, error=None, error_details=None,
            started_at=execution.attempt_started_at or execution.started_at,
            ended_at=execution.finished_at if execution.state == "succeeded" else None,
            next_attempt_at=None,
        ))
    return found
