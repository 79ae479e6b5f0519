"""Bearer API keys with incident.io's scopes (the ``x-rbac-scopes`` of each operation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.emulator.problems import (
    missing_credentials,
    missing_scope,
    rejected_credentials,
)

# Every scope the emulated endpoints ask for; a key given as a bare string gets them all.
ALL_SCOPES = frozenset({
    "severities.view", "incidents.view", "incidents.create", "incidents.edit",
    "incident_statuses.view", "incident_types.view", "custom_fields.view",
    "escalation_paths.view", "users.view", "alert_sources.view",
    "follow_ups.create", "actions.view", "escalations.create", "escalations.view",
    "alerts.view", "alerts.resolve",
})

ApiKeys = Mapping[str, frozenset[str]]
Handler = Callable[[Request], Awaitable[Response]]


def normalise_api_keys(keys: str | Iterable[str] | Mapping[str, Iterable[str]]) -> ApiKeys:
    """Accept one key, several keys (all scopes), or a mapping key -> scopes."""
    if isinstance(keys, str):
        keys = [keys]
    if isinstance(keys, Mapping):
        normalised = {key: frozenset(scopes) for key, scopes in keys.items()}
    else:
        normalised = {key: ALL_SCOPES for key in keys}
    if not normalised or not all(normalised):
        raise ValueError("the emulator needs at least one non-empty API key")
    return normalised


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authorize(request: Request, scope: str) -> None:
    keys: ApiKeys = request.app.state.api_keys
    token = bearer_token(request)
    if token is None:
        raise missing_credentials()
    if token not in keys:
        raise rejected_credentials()
    if scope not in keys[token]:
        raise missing_scope(scope)


def requires(scope: str) -> Callable[[Handler], Handler]:
    """Decorate an API handler: authenticate the bearer key and check its scope first."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request) -> Response:
            authorize(request, scope)
            return await handler(request)

        return guarded

    return decorate
