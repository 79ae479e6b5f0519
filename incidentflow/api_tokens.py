"""API tokens as values: their shape, how they are made and how they are hashed.

A token is ``ift_`` + 43 URL-safe characters (256 random bits). Only its SHA-256
digest is stored. A fast hash is right here, unlike for passwords: with 256 bits of
entropy no dictionary or brute-force search is feasible, so a slow hash (bcrypt,
scrypt) would only add milliseconds to every API request without adding safety.
The rows live in the store (``Store.create_token``, ``Store.active_token``, ...).
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "ift_"
MAX_NAME_LENGTH = 200
# Browser sessions are rows of kind "session" next to the API tokens (so a sign-out
# holds on every replica); their token hash is unusable. The prefix only labels them.
SESSION_ROW_PREFIX = "browser session · "
API, SESSION = "api", "session"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap pre-check: anything else cannot be an API token, so skip the database."""
    return value.startswith(TOKEN_PREFIX) and 20 <= len(value) <= 200
