"""Browser sessions: a signed cookie, a per-session CSRF token, and the sign-in check.

The cookie holds ``{"sid", "csrf", "who", "fp", "exp"}`` as base64 JSON plus an
HMAC-SHA256 signature under a key derived from ``settings.secret_key``. It is not
encrypted (nothing secret is in it) but cannot be forged. ``fp`` is a fingerprint of
the credential used to sign in, so rotating the admin token ends every session.

Signing in with an API token (``ift_…``) makes ``who`` = ``token:<id>``; such a
session lives only while that token is unrevoked (checked at most every
``TOKEN_CHECK_SECONDS`` per process, so a revocation ends it within seconds). The
app binds the token store with :func:`bind_token_store` (``create_app`` does it).

Signing out revokes the session id in this process (kept until the cookie would have
expired anyway); the browser also drops the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, replace
from typing import Any

from incidentflow.settings import Settings
from incidentflow.store.tokens import hash_token, looks_like_token

COOKIE_NAME = "incidentflow_session"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
TOKEN_CHECK_SECONDS = 5.0
TOKEN_WHO_PREFIX = "token:"

# settings -> the store holding API tokens. Keyed by the settings object because the
# UI hands only its settings to authenticate()/SessionCodec.
_token_stores: weakref.WeakKeyDictionary[Settings, Any] = weakref.WeakKeyDictionary()


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


def bind_token_store(settings: Settings, store: Any) -> None:
    """Accept the API tokens of ``store`` at sign-in for this settings object."""
    _token_stores[settings] = store


def authenticate(settings: Settings, token: str, store: Any = None) -> str | None:
    """The one place a presented token is checked. Returns who signed in, or None.

    The admin token (constant-time compare), else an unrevoked API token of ``store``
    (default: the bound one), looked up by its SHA-256 digest (see store/tokens.py)."""
    presented = token.strip()
    if presented and hmac.compare_digest(presented.encode(), settings.admin_token.encode()):
        return "admin"
    store = store if store is not None else _token_stores.get(settings)
    if store is None or not looks_like_token(presented):
        return None
    record = store.active_token(hash_token(presented))
    return f"{TOKEN_WHO_PREFIX}{record.id}" if record is not None else None


class _TokenLiveness:
    """Is the API token behind a session still unrevoked? Cached a few seconds, so a
    page view does not always cost a query, and a revocation still ends it soon."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._checked: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def alive(self, who: str) -> bool:
        token_id = who.removeprefix(TOKEN_WHO_PREFIX)
        now = time.monotonic()
        with self._lock:
            cached = self._checked.get(token_id)
        if cached and now - cached[0] < TOKEN_CHECK_SECONDS:
            return cached[1]
        alive = self._lookup(token_id)
        with self._lock:
            self._checked[token_id] = (now, alive)
        return alive

    def _lookup(self, token_id: str) -> bool:
        store = _token_stores.get(self._settings)
        if store is None:
            return False
        try:
            return not store.get_token(token_id).revoked
        except Exception:  # unknown token, or database trouble: refuse, never trust
            return False


def credential_fingerprint(settings: Settings, who: str) -> str:
    """Changes whenever the credential behind ``who`` changes."""
    material = f"{who}:{settings.admin_token}".encode()
    return hmac.new(_key(settings, b"fingerprint"), material, hashlib.sha256).hexdigest()[:32]


class SessionCodec:
    """Encodes, signs, verifies and revokes session cookies for one settings object."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._key = _key(settings, b"session")
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()
        self._tokens = _TokenLiveness(settings)

    def sign_in(self, session: Session, who: str) -> Session:
        # A fresh sid and CSRF token on sign-in: no session fixation.
        return replace(
            new_anonymous(), who=who, fingerprint=credential_fingerprint(self._settings, who)
        )

    def revoke(self, session: Session) -> None:
        with self._lock:
            now = time.time()
            self._revoked = {s: e for s, e in self._revoked.items() if e > now}
            self._revoked[session.sid] = session.expires

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
        """The session in a cookie, or None if missing, forged, expired or revoked."""
        if not cookie or "." not in cookie:
            return None
        body, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            raw: dict[str, Any] = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
            session = Session(
                sid=str(raw["sid"]),
                csrf=str(raw["csrf"]),
                who=raw.get("who"),
                fingerprint=str(raw.get("fp", "")),
                expires=float(raw["exp"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires < time.time() or self._is_revoked(session.sid):
            return None
        if session.who and session.fingerprint != credential_fingerprint(
            self._settings, session.who
        ):
            return None
        if session.who and session.who.startswith(TOKEN_WHO_PREFIX) and not self._tokens.alive(
            session.who
        ):
            return None
        return session

    def _is_revoked(self, sid: str) -> bool:
        with self._lock:
            return sid in self._revoked

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf.encode(), str(presented).encode())


def _key(settings: Settings, purpose: bytes) -> bytes:
    """A key per purpose, so the session key is never the encryption key itself."""
    return hmac.new(
        settings.secret_key.encode(), b"incidentflow-ui:" + purpose, hashlib.sha256
    ).digest()
