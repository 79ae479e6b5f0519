"""One exception tree for incidentflow.

    IncidentflowError
    ├── ConfigurationError          bad settings or environment
    ├── CanvasError                 a canvas failed validation (carries every problem)
    ├── ExpressionError             a template failed to compile or render (names node + field)
    ├── NotFound                    a canvas, node, run, integration or endpoint does not exist
    ├── Conflict                    the request clashes with the current state (e.g. paused)
    ├── StoreUnavailable            the database cannot be reached (connection lost, restart)
    └── ExecutionError              a component failed while running
        ├── RetryableError          try again later (network, timeouts, 5xx, 429)
        └── PermanentError          retrying cannot help (4xx, bad input); fails at once

Driver and HTTP-library errors are translated at the edge with ``raise ... from exc``
(the store's: ``store.driver_errors``).
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
