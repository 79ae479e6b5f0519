"""Browser sessions: a signed cookie backed by a revocable row in the store.

The cookie holds ``{"sid", "csrf", "who", "fp", "exp"}`` as base64 JSON plus an
HMAC-SHA256 signature under a key derived from ``settings.secret_key``. It is not
encrypted (nothing secret is in it) but cannot be forged, and it expires (``exp``).

Why a store row: a signed cookie alone can only be refused by the process that saw the
sign-out. So signing in creates a row in the existing API-token table (named
``browser session · <who>``) whose id is the ``sid``; the row's token is a random value
thrown away at once, so the row can never be used as a bearer token. Signing out
revokes the row, and every process (and every restart) refuses a cookie whose row is
revoked or missing. Each process caches "still alive" for ``LIVENESS_SECONDS`` so a page
view does not always cost a query; the process that signed out forgets at once.

The same liveness check covers a session opened with an API token (``who`` =
``token:<id>``): revoking that token ends the session everywhere. ``fp`` fingerprints
the credential, so rotating the admin token ends every admin session.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from incidentflow.api_tokens import (
    SESSION,
    SESSION_ROW_PREFIX,
    hash_token,
    new_token,
)
from incidentflow.errors import NotFound
from incidentflow.settings import Settings
from incidentflow.store.port import Store
from incidentflow.web.auth import (
    AdminTokenVerifier,
    ApiTokenVerifier,
    TokenVerifier,
    verify_token,
)

COOKIE_NAME = "incidentflow_session"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
LIVENESS_SECONDS = 5.0
TOKEN_WHO_PREFIX = "token:"

# settings -> the store holding API tokens. Keyed by the settings object because
# create_app binds it before the UI exists (see web/app.py).
_token_stores: weakref.WeakKeyDictionary[Settings, Store] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Session:
    sid: str
    csrf: str
    who: str | None  # None: anonymous (only the sign-in form is usable)
    fingerprint: str
    expires: float

    @property
    def signed_in(self) -> bool:
        return self.who is not None


def new_anonymous() -> Session:
    return Session(
        sid=secrets.token_urlsafe(16),
        csrf=secrets.token_urlsafe(24),
        who=None,
        fingerprint="",
        expires=time.time() + SESSION_SECONDS,
    )


def bind_token_store(settings: Settings, store: Store) -> None:
    """Accept the API tokens of ``store`` at sign-in for this settings object."""
    _token_stores[settings] = store


def authenticate(settings: Settings, token: str, store: Store | None = None) -> str | None:
    """Who signs in with ``token``, or None. The check itself is the API's
    (``web.auth.verify_token``): the admin token (constant-time compare), else an
    unrevoked API token of ``store`` (default: the bound one)."""
    presented = token.strip()
    if not presented:
        return None
    store = store if store is not None else _token_stores.get(settings)
    verifiers: list[TokenVerifier] = [AdminTokenVerifier(settings.admin_token)]
    if store is not None:
        verifiers.append(ApiTokenVerifier(store))
    principal = verify_token(verifiers, presented)
    if principal is None:
        return None
    return "admin" if principal.token_id is None else f"{TOKEN_WHO_PREFIX}{principal.token_id}"


class _Liveness:
    """Is a token row (a session's own, or the API token it was opened with) still
    unrevoked? Cached per process for a few seconds; ``forget`` makes it immediate."""

    def __init__(self, store: Store | None, clock: Callable[[], float]):
        self._store, self._clock = store, clock
        self._checked: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def alive(self, token_id: str) -> bool:
        now = self._clock()
        with self._lock:
            cached = self._checked.get(token_id)
        if cached and now - cached[0] < LIVENESS_SECONDS:
            return cached[1]
        alive = self._lookup(token_id)
        with self._lock:
            self._checked = {k: v for k, v in self._checked.items() if now - v[0] < 60}
            self._checked[token_id] = (now, alive)
        return alive

    def forget(self, token_id: str) -> None:
        with self._lock:
            self._checked[token_id] = (self._clock(), False)

    def _lookup(self, token_id: str) -> bool:
        if self._store is None:
            return False
        try:
            return not self._store.get_token(token_id).revoked
        except NotFound:
            return False
        except Exception:  # database trouble: refuse, never trust
            return False


def credential_fingerprint(settings: Settings, who: str) -> str:
    """Changes whenever the credential behind ``who`` changes."""
    material = f"{who}:{settings.admin_token}".encode()
    return hmac.new(_key(settings, b"fingerprint"), material, hashlib.sha256).hexdigest()[:32]


class SessionCodec:
    """Opens, encodes, verifies and ends browser sessions for one settings object.

    ``sign_in``, ``sign_out`` and ``decode`` may query the store: call them from a
    worker thread, not the event loop."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._settings = settings
        self._key = _key(settings, b"session")
        self._explicit_store = store
        self._clock = clock
        self._liveness: _Liveness | None = None

    @property
    def store(self) -> Store | None:
        return self._explicit_store or _token_stores.get(self._settings)

    def _live(self) -> _Liveness:
        if self._liveness is None:  # lazily: create_app binds the store after the UI
            self._liveness = _Liveness(self.store, self._clock)
        return self._liveness

    def _alive(self, token_id: str) -> bool:
        return self._live().alive(token_id)

    def sign_in(self, session: Session, who: str) -> Session:
        """A new session (fresh sid and CSRF token: no session fixation) with its row."""
        store = self.store
        if store is None:
            raise RuntimeError("no store bound: sessions cannot be revoked, refusing sign-in")
        row = store.create_token(
            f"{SESSION_ROW_PREFIX}{who}"[:200], hash_token(new_token()), datetime.now(UTC),
            SESSION,
        )
        return replace(
            new_anonymous(),
            sid=row.id,
            who=who,
            fingerprint=credential_fingerprint(self._settings, who),
        )

    def forget(self, sid: str) -> None:
        """This process refuses ``sid`` at once (its row was revoked elsewhere here)."""
        self._live().forget(sid)

    def sign_out(self, session: Session) -> None:
        """End ``session`` in every process: revoke its row (already gone is fine)."""
        if not session.signed_in:
            return
        self._live().forget(session.sid)  # this process refuses it at once
        store = self.store
        if store is None:  # nothing bound: no row was ever written for it
            return
        with contextlib.suppress(NotFound):  # already gone: nothing left to end
            store.revoke_token(session.sid, datetime.now(UTC))

    def encode(self, session: Session) -> str:
        payload = {
            "sid": session.sid,
            "csrf": session.csrf,
            "who": session.who,
            "fp": session.fingerprint,
            "exp": session.expires,
        }
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def decode(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None if missing, forged, expired or ended."""
        session = self._verified(cookie)
        if session is None or session.expires < time.time():
            return None
        if not session.signed_in:
            return session
        assert session.who is not None
        if session.fingerprint != credential_fingerprint(self._settings, session.who):
            return None
        if not self._alive(session.sid):
            return None
        if session.who.startswith(TOKEN_WHO_PREFIX) and not self._alive(
            session.who.removeprefix(TOKEN_WHO_PREFIX)
        ):
            return None
        return session

    def _verified(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        body, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            raw: dict[str, Any] = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
            who = raw.get("who")
            return Session(
                sid=str(raw["sid"]),
                csrf=str(raw["csrf"]),
                who=str(who) if who is not None else None,
                fingerprint=str(raw.get("fp", "")),
                expires=float(raw["exp"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf.encode(), str(presented).encode())


def _key(settings: Settings, purpose: bytes) -> bytes:
    """A key per purpose, so the session key is never the encryption key itself."""
    return hmac.new(
        settings.secret_key.encode(), b"incidentflow-ui:" + purpose, hashlib.sha256
    ).digest()
