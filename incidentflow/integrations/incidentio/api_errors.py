"""What the incident.io client raises, and how incident.io's answers become it.

One tree, rooted in the engine's ``ExecutionError`` so a component can let these
propagate and the engine knows whether to retry::

    ExecutionError
    └── IncidentIOError                    anything the client raises
        ├── IncidentIOUnavailable          + RetryableError: network, timeout, 5xx, 429
        └── IncidentIORejected             + PermanentError: a 4xx with incident.io's reasons
            ├── APIKeyRejected             401
            └── PermissionMissing          403, names the API key permission to add

Messages carry incident.io's reasons (``field: message``) and its request id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from incidentflow.components.retry_after import parse_retry_after
from incidentflow.errors import ExecutionError, PermanentError, RetryableError

# What an alert source's call is authorised by (not an API key permission).
ALERT_SOURCE_TOKEN = "the alert source's token"


class IncidentIOError(ExecutionError):
    """Base of everything the incident.io client raises."""


class IncidentIOUnavailable(RetryableError, IncidentIOError):
    """incident.io could not answer now (network, timeout, 5xx, 429). Try again later."""


class IncidentIORejected(PermanentError, IncidentIOError):
    """incident.io refused the request; retrying the same request cannot help."""

    def __init__(self, message: str, status: int, request_id: str | None, body: Any):
        super().__init__(message, {"status": status, "request_id": request_id, "body": body})
        self.status = status
        self.request_id = request_id


class APIKeyRejected(IncidentIORejected):
    pass


class PermissionMissing(IncidentIORejected):
    pass


def unavailable(response: httpx.Response, now: datetime) -> IncidentIOUnavailable:
    """A 429 or 5xx answer, with its ``Retry-After`` for the engine."""
    body = _json_or_text(response)
    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    return IncidentIOUnavailable(
        f"incident.io is unavailable ({response.status_code}{_code(body)}){_request_ref(body)}",
        details={"status": response.status_code, "body": body},
        retry_after=retry_after,
    )


def ok_body(response: httpx.Response, permission: str) -> dict[str, Any]:
    """The JSON body of a successful answer; a refusal as the error it is, naming the
    ``permission`` the request needs."""
    body = _json_or_text(response)
    if response.status_code == 401 and permission == ALERT_SOURCE_TOKEN:
        raise APIKeyRejected(
            f"incident.io refused the alert source's token (401){_reasons(body)}"
            f"{_request_ref(body)}: check the canvas secret holds this alert source's token",
            401, _request_id(body), body,
        )
    if response.status_code == 401:
        raise APIKeyRejected(
            f"API key rejected by incident.io (401){_request_ref(body)}: check the key "
            "was pasted whole and has not been deleted",
            401, _request_id(body), body,
        )
    if response.status_code == 403:
        raise PermissionMissing(
            f"incident.io refused the API key (403): it lacks the permission "
            f"{permission}{_reasons(body)}{_request_ref(body)}",
            403, _request_id(body), body,
        )
    if not response.is_success:
        raise IncidentIORejected(
            f"incident.io rejected the request ({response.status_code}{_code(body)})"
            f"{_reasons(body)}{_request_ref(body)}",
            response.status_code, _request_id(body), body,
        )
    if not isinstance(body, dict):
        raise IncidentIOError(f"incident.io answered {response.status_code} without JSON")
    return body


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _code(body: Any) -> str:
    kind = body.get("type") if isinstance(body, dict) else None
    return f" {kind}" if isinstance(kind, str) and kind else ""


def _request_id(body: Any) -> str | None:
    value = body.get("request_id") if isinstance(body, dict) else None
    return str(value) if value else None


def _request_ref(body: Any) -> str:
    request_id = _request_id(body)
    return f" [request_id {request_id}]" if request_id else ""


def _reasons(body: Any) -> str:
    """``: severity_id: not found; name: is required`` from incident.io's errors list."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = [_reason(e) for e in errors if isinstance(e, dict)]
    return ": " + "; ".join(p for p in parts if p) if any(parts) else ""


def _reason(error: dict[str, Any]) -> str:
    source = error.get("source")
    where = source.get("field") if isinstance(source, dict) else None
    message = str(error.get("message") or error.get("code") or "")
    return f"{where}: {message}" if where else message
