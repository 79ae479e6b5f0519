"""Bearer-token authentication for the management API.

``BearerAuth`` asks a list of :class:`TokenVerifier` in turn: the bootstrap admin token
(settings) and the API tokens stored in the database (``ApiTokenVerifier``). A
verifier that reads the database offers ``verify_async`` too, which the middleware
awaits (through the store's async face) instead of blocking the event loop. The
principal lands in ``request.state.principal``.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeGuard

from starlette.types import ASGIApp, Receive, Scope, Send

from incidentflow.api_tokens import hash_token, looks_like_token
from incidentflow.events import utcnow
from incidentflow.store.port import Store
from incidentflow.web.throttle import SigninThrottle, client_of, too_many_message

if TYPE_CHECKING:
    from incidentflow.store.async_port import AsyncStore
    from incidentflow.store.records import TokenRecord

# Writing last_used_at on every request would put a write on every API call; once a
# minute per token is precise enough for "is this token still in use?".
TOUCH_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str  # "admin" or "api-token"
    token_id: str | None = None


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


class ApiTokenVerifier:
    """API tokens from the store (``ift_…``): unknown or revoked tokens are refused.

    No cache, so a revocation takes effect on the very next request in every process.
    ``verify`` blocks on the store (the UI's sign-in runs it in a thread);
    ``verify_async`` is the same check for callers on the event loop."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow):
        self._store, self._clock = store, clock
        self._db: AsyncStore = store.aio
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal | None:
        if not looks_like_token(token):
            return None
        record = self._store.active_token(hash_token(token))
        if not _is_credential(record):
            return None
        if self._due_for_touch(record.id):
            self._store.touch_token(record.id, self._clock())
        return _principal(record)

    async def verify_async(self, token: str) -> Principal | None:
        if not looks_like_token(token):
            return None
        record = await self._db.active_token(hash_token(token))
        if not _is_credential(record):
            return None
        if self._due_for_touch(record.id):
            await self._db.touch_token(record.id, self._clock())
        return _principal(record)

    def _due_for_touch(self, token_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(token_id, -TOUCH_INTERVAL_SECONDS) < TOUCH_INTERVAL_SECONDS:
                return False
            self._touched[token_id] = now
            return True


def _is_credential(record: TokenRecord | None) -> TypeGuard[TokenRecord]:
    """An active API token; a browser session's row is no credential."""
    return record is not None and not record.is_session


def _principal(record: TokenRecord) -> Principal:
    return Principal(name=record.name, kind="api-token", token_id=record.id)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def verify_token(verifiers: Sequence[TokenVerifier], token: str) -> Principal | None:
    """The one check of a presented token, for the API and the UI's sign-in alike: the
    first verifier that accepts it names who it is."""
    for verifier in verifiers:
        principal = verifier.verify(token)
        if principal is not None:
            return principal
    return None


def authenticate(verifiers: Sequence[TokenVerifier], authorization: str | None) -> Principal | None:
    token = bearer_token(authorization)
    return None if token is None else verify_token(verifiers, token)


async def authenticate_async(
    verifiers: Sequence[TokenVerifier], authorization: str | None
) -> Principal | None:
    """:func:`authenticate`, awaiting the verifiers that read the database."""
    token = bearer_token(authorization)
    if token is None:
        return None
    for verifier in verifiers:
        if isinstance(verifier, ApiTokenVerifier):
            principal = await verifier.verify_async(token)
        else:
            principal = verifier.verify(token)
        if principal is not None:
            return principal
    return None


class BearerAuth:
    """ASGI middleware: 401 JSON unless a verifier accepts the bearer token.

    With a ``throttle``, a client that presented too many wrong tokens gets 429 and
    ``Retry-After`` instead, without its token being checked (web/throttle.py)."""

    def __init__(self, app: ASGIApp, verifiers: Sequence[TokenVerifier],
                 throttle: SigninThrottle | None = None):
        self.app, self.verifiers, self.throttle = app, tuple(verifiers), throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        wait = self.throttle.retry_after(client) if self.throttle else None
        if wait is not None:
            await _answer(send, 429, {"error": too_many_message(wait)},
                          [(b"retry-after", str(wait).encode())])
            return
        header = _header(scope, b"authorization")
        principal = await authenticate_async(self.verifiers, header)
        if principal is None:
            if self.throttle and bearer_token(header) is not None:  # a wrong guess
                self.throttle.failed(client)
            await _answer(send, 401, {"error": "missing or invalid bearer token"},
                          [(b"www-authenticate", b'Bearer realm="incidentflow"')])
            return
        if self.throttle:
            self.throttle.succeeded(client)
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _answer(send: Send, status: int, payload: dict[str, str],
                  headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    })
    await send({"type": "http.response.body", "body": body})
