"""Bearer-token authentication for the management API.

Pluggable on purpose: ``BearerAuth`` asks a list of :class:`TokenVerifier` in turn, so
API tokens stored in the database can be added later next to the admin token without
touching the routes. The principal lands in ``request.state.principal``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str  # "admin" today; "api-token" later


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal | None: ...


class AdminTokenVerifier:
    """The bootstrap admin token from the settings (constant-time compare)."""

    def __init__(self, admin_token: str):
        self._expected = admin_token.encode()

    def verify(self, token: str) -> Principal | None:
        if self._expected and hmac.compare_digest(token.encode(), self._expected):
            return Principal(name="admin", kind="admin")
        return None

    def __repr__(self) -> str:
        return "AdminTokenVerifier(<token hidden>)"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(verifiers: Sequence[TokenVerifier], authorization: str | None) -> Principal | None:
    token = bearer_token(authorization)
    if token is None:
        return None
    for verifier in verifiers:
        principal = verifier.verify(token)
        if principal is not None:
            return principal
    return None


class BearerAuth:
    """ASGI middleware: 401 JSON unless a verifier accepts the bearer token."""

    def __init__(self, app: ASGIApp, verifiers: Sequence[TokenVerifier]):
        self.app, self.verifiers = app, tuple(verifiers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization")
        principal = authenticate(self.verifiers, header)
        if principal is None:
            await _unauthorized(send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _unauthorized(send: Send) -> None:
    body = json.dumps({"error": "missing or invalid bearer token"}).encode()
    await send({
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="incidentflow"'),
        ],
    })
    await send({"type": "http.response.body", "body": body})
