"""One exception tree for incidentflow.

    IncidentflowError
    ├── ConfigurationError          bad settings or environment
    ├── InvalidInput                a request decoded but not acceptable (422; carries problems)
    │   └── Malformed               a request that cannot even be decoded (400)
    ├── CanvasError                 a canvas failed validation (carries every problem)
    ├── ExpressionError             a template failed to compile or render (names node + field)
    │   └── BudgetError             ... by going over its budget (expression_budget.py)
    ├── NotFound                    a canvas, node, run, integration or endpoint does not exist
    ├── Conflict                    the request clashes with the current state (e.g. paused)
    ├── UpstreamError               an outside service failed while we asked it (502)
    ├── Forbidden                   this caller may not do it (e.g. not an approver)
    ├── StoreUnavailable            the database cannot be reached (connection lost, restart)
    └── ExecutionError              a component failed while running
        ├── IncidentIOError         what the incident.io client raises (its client.py) ...
        ├── RetryableError          try again later (network, timeouts, 5xx, 429)
        │   └── IncidentIOUnavailable          ... and is a RetryableError
        └── PermanentError          retrying cannot help (4xx, bad input); fails at once
            ├── IncidentIORejected             ... or a PermanentError
            │   ├── APIKeyRejected             the key itself was refused (401)
            │   └── PermissionMissing          the key lacks a scope (403)
            └── EgressError                    the egress policy refused a URL (egress.py)
                ├── UnusableUrl
                └── EgressRefused

The classes named with a module live there, next to what raises them; the rest are
defined here. Driver and HTTP-library errors are translated at the edge with
``raise ... from exc`` (the store's: ``store.driver_errors``). Outside the tree on
purpose: the emulator's ``ApiProblem`` (it plays incident.io), the API client's
``ApiError`` (the CLI's view of an HTTP answer), and private signals that never leave
their module (``BudgetExceeded``, ``JsonRejected``, the writer's group failures).
"""

from __future__ import annotations

from dataclasses import dataclass


class IncidentflowError(Exception):
    """Base of every error incidentflow raises on purpose."""


class ConfigurationError(IncidentflowError):
    pass


class NotFound(IncidentflowError):
    pass


class Conflict(IncidentflowError):
    """Valid, but not now: the thing is in a state that forbids it (HTTP 409)."""


class UpstreamError(IncidentflowError):
    """An outside service (e.g. incident.io) failed while we asked it something."""


class Forbidden(IncidentflowError):
    """Allowed for others, not for this caller (HTTP 403)."""


class StoreUnavailable(IncidentflowError):
    """The store could not be reached (connection lost, server restarting), as opposed
    to a statement that failed on its own data. Every store raises this one, so nothing
    above the store classifies driver errors; the engine lets the lease expire and the
    execution is tried again."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as we can."""

    message: str
    node: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ".".join(p for p in (self.node, self.field) if p)
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, str | None]:
        return {"node": self.node, "field": self.field, "message": self.message}


class InvalidInput(IncidentflowError):
    """The request is well-formed but not acceptable; ``problems`` locate why."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


class Malformed(InvalidInput):
    """The request body cannot even be decoded (bad JSON/YAML, not UTF-8)."""


class CanvasError(IncidentflowError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ExpressionError(IncidentflowError):
    def __init__(self, message: str, node: str | None = None, field: str | None = None):
        self.node, self.field, self.detail = node, field, message
        where = ".".join(p for p in (node, field) if p)
        super().__init__(f"{where}: {message}" if where else message)


class ExecutionError(IncidentflowError):
    """A component failed. ``details`` is JSON-safe context for the run page."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


class RetryableError(ExecutionError):
    def __init__(
        self, message: str, details: dict | None = None, retry_after: float | None = None
    ):
        super().__init__(message, details)
        self.retry_after = retry_after


class PermanentError(ExecutionError):
    pass
