"""incident.io's error format: ``{type, status, request_id, errors: [{code, message, source}]}``.

The 401 and 422 shapes follow the examples in incident.io's API reference. Codes for
cases the reference does not show (403, 404, 400) are our best guess in the same style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

from incidentflow.emulator.ids import new_request_id


@dataclass(frozen=True)
class ErrorDetail:
    code: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            detail["source"] = {"field": self.field}
        return detail


@dataclass
class ApiProblem(Exception):
    """Raised by handlers; rendered by the app's exception handler."""

    status: int
    type: str
    errors: list[ErrorDetail]
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "status": self.status,
            "request_id": new_request_id(),
            **self.extra,
            "errors": [e.as_dict() for e in self.errors],
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def validation_error(code: str, message: str, field: str | None = None) -> ApiProblem:
    return ApiProblem(422, "validation_error", [ErrorDetail(code, message, field)])


def not_found(message: str) -> ApiProblem:
    return ApiProblem(404, "not_found", [ErrorDetail("not_found", message)])


def bad_request(message: str) -> ApiProblem:
    return ApiProblem(400, "bad_request", [ErrorDetail("bad_request", message)])


def missing_credentials() -> ApiProblem:
    detail = ErrorDetail(
        "missing_authorization_material", "No authorization material provided in request"
    )
    return ApiProblem(401, "authentication_error", [detail])


def rejected_credentials() -> ApiProblem:
    detail = ErrorDetail("invalid_authorization_material", "The API key provided is not valid")
    return ApiProblem(401, "authentication_error", [detail])


def missing_scope(scope: str) -> ApiProblem:
    message = f"This API key is missing the {scope} scope needed for this request"
    return ApiProblem(403, "authorization_error", [ErrorDetail("missing_scope", message)])
