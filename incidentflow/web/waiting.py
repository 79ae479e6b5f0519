"""What a run is waiting for and until when, as the API and the run page show it.

Three sources, one shape (``WaitingItem``): an open wait of a waiting step (an
approval, an event; it describes itself when it begins: ``components.base.Waiting``),
an execution queued for a later time by the ``wait`` step, and a failed attempt's
retry backing off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incidentflow.components.base import Wait
from incidentflow.events import iso
from incidentflow.store.port import ExecutionRecord, RunRecord


@dataclass(frozen=True)
class WaitingItem:
    execution_id: str
    node: str
    kind: str  # "approval", "event", ... (a waiting step); "wait"; "retry"
    summary: str
    until: datetime | None  # None: until someone or something settles it
    detail: dict[str, Any] = field(default_factory=dict)


def waiting_items(run: RunRecord, waits: list[Wait]) -> list[WaitingItem]:
    """What ``run`` waits for now, in execution order (nothing once it has ended)."""
    if run.state != "running":
        return []
    open_waits = {w.execution_id: w for w in waits if w.settled_at is None}
    items = []
    for execution in run.executions:
        if execution.state != "queued":
            continue
        wait = open_waits.get(execution.id)
        item = _of_wait(wait) if wait is not None else _of_queued(execution)
        if item is not None:
            items.append(item)
    return items


def _of_wait(wait: Wait) -> WaitingItem:
    return WaitingItem(wait.execution_id, wait.node, wait.waiting.kind, wait.waiting.summary,
                       wait.waiting.until, wait.waiting.detail)


def _of_queued(execution: ExecutionRecord) -> WaitingItem | None:
    due = execution.next_attempt_at
    if due is None:
        return None
    if execution.attempts > 0:
        return WaitingItem(execution.id, execution.node, "retry",
                           f"retry of {execution.node}: {execution.error or 'it failed'}", due)
    if due > execution.created_at:  # enqueued for later: a wait step before it
        return WaitingItem(execution.id, execution.node, "wait",
                           f"wait before {execution.node}", due)
    return None  # due now: about to run, not waiting


def item_view(item: WaitingItem) -> dict[str, Any]:
    return {
        "executionId": item.execution_id,
        "node": item.node,
        "kind": item.kind,
        "summary": item.summary,
        "until": iso(item.until) if item.until is not None else None,
        "detail": item.detail,
    }


def waits_view(run: RunRecord, waits: list[Wait]) -> list[dict[str, Any]]:
    return [item_view(item) for item in waiting_items(run, waits)]


def approval_view(wait: Wait) -> dict[str, Any]:
    """An open approval, for the waiting-for-you list."""
    detail = wait.waiting.detail
    return {
        "runId": wait.run_id,
        "canvas": wait.canvas,
        "node": wait.node,
        "executionId": wait.execution_id,
        "message": detail.get("message"),
        "approvers": detail.get("approvers") or [],
        "since": iso(wait.began_at),
        "until": iso(wait.waiting.until) if wait.waiting.until is not None else None,
    }
