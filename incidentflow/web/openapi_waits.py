"""The OpenAPI paths and schemas of approvals and cancelling runs (docs/time.md), kept
apart so ``web/openapi.py`` stays one screenful per concern. Helpers are passed in,
so both halves build the document the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_WHEN = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_STR = {"type": ["string", "null"]}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def waiting_paths(p: str, op: Callable[..., dict[str, Any]],
                  json: Callable[[dict[str, Any], str], dict[str, Any]],
                  ref: Callable[[str], dict[str, str]],
                  path_param: Callable[[str, str], dict[str, Any]]) -> dict[str, Any]:
    run_id = path_param("run_id", "Run id")
    node = path_param("node", "Name of the approval node")
    decision_body = {"required": True, "content": {"application/json": {
        "schema": _object(["decision"], decision={"enum": ["approve", "reject"]},
                          comment={"type": ["string", "null"], "maxLength": 2000})}}}
    return {
        f"{p}/runs/{{run_id}}/approvals/{{node}}": {"post": op(
            "Decide the approval a run waits for at a node; recorded once (409 for any "
            "later decision and after the timeout); 403 for someone who is not one of "
            "its approvers", {"200": json(ref("ApprovalDecided"), "Recorded")},
            params=[run_id, node], body=decision_body,
            errors=(400, 401, 403, 404, 409, 413, 422))},
        f"{p}/runs/{{run_id}}/cancel": {"post": op(
            "Cancel a run that is running or waiting (a wait, an approval, a queued "
            "retry): what it has queued never runs; 409 once it has ended",
            {"200": json(ref("RunCancelled"), "Cancelled")}, params=[run_id],
            errors=(401, 404, 409))},
        f"{p}/approvals": {"get": op(
            "Approvals waiting for the caller (open ones naming it, or no one), oldest "
            "first", {"200": json(ref("ApprovalList"), "Waiting approvals")})},
    }


def waiting_schemas() -> dict[str, Any]:
    approval = _object(
        ["runId", "canvas", "node", "executionId", "message", "approvers", "since", "until"],
        runId={"type": "string"}, canvas={"type": "string"}, node={"type": "string"},
        executionId={"type": "string"}, message=_NULLABLE_STR,
        approvers={"type": "array", "items": {"type": "string"}}, since=_WHEN, until=_WHEN)
    return {
        "ApprovalDecided": _object(
            ["runId", "node", "executionId", "decision", "by", "comment"],
            runId={"type": "string"}, node={"type": "string"},
            executionId={"type": "string"}, decision={"enum": ["approved", "rejected"]},
            by={"type": "string"}, comment=_NULLABLE_STR),
        "RunCancelled": _object(["runId", "state"], runId={"type": "string"},
                                state={"enum": ["cancelled"]}),
        "ApprovalList": _object(["approvals"], approvals={"type": "array", "items": approval}),
        "WaitingItem": _object(
            ["executionId", "node", "kind", "summary", "until", "detail"],
            executionId={"type": "string"}, node={"type": "string"},
            kind={"type": "string", "description": "approval, event, wait or retry"},
            summary={"type": "string"}, until=_WHEN, detail={"type": "object"}),
    }
