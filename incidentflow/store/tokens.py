"""API tokens: named bearer credentials for scripts and people, stored hashed.

What a token is and how it is hashed: ``incidentflow.api_tokens``. Only its SHA-256
digest is stored; lookups go by digest (the index) and the found digest is compared
again in constant time.

The table is declared on ``store.schema.metadata`` so the migrations-match-metadata
test sees it (migration ``0002``).
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.api_tokens import (  # re-exported: the rules live there
    API,
    MAX_NAME_LENGTH,
    SESSION,
    SESSION_ROW_PREFIX,
    TOKEN_PREFIX,
    hash_token,
    looks_like_token,
    new_token,
)
from incidentflow.errors import NotFound
from incidentflow.store.codec import new_id
from incidentflow.store.records import TokenRecord
from incidentflow.store.schema import ID, NAME, UTCDateTime, metadata

__all__ = ["API", "MAX_NAME_LENGTH", "SESSION", "SESSION_ROW_PREFIX", "TOKEN_PREFIX",
           "TokenRecord", "api_tokens", "hash_token", "looks_like_token", "new_token"]

# Browser sessions live in this table too, as rows of kind "session" (so a sign-out
# holds on every replica); their token hash is unusable.

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("kind", sa.String(16), nullable=False, server_default=API),
    sa.UniqueConstraint("token_hash"),
)


# -- functions on an open transaction (SqlStore composes them) --------------------------


def insert(conn: Connection, name: str, token_hash: str, now: datetime,
           kind: str = API) -> TokenRecord:
    token_id = new_id()
    conn.execute(api_tokens.insert().values(
        id=token_id, name=name, token_hash=token_hash, created_at=now, kind=kind))
    return by_id(conn, token_id)


def by_id(conn: Connection, token_id: str) -> TokenRecord:
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise NotFound(f"token {token_id!r} does not exist")
    return _record(row)


def active_by_hash(conn: Connection, token_hash: str) -> TokenRecord | None:
    """The unrevoked token with this digest, or None."""
    row = conn.execute(
        sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, token_hash):  # defence in depth
        return None
    return _record(row)


def list_all(conn: Connection) -> list[TokenRecord]:
    rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id))
    return [_record(row) for row in rows]


def revoke(conn: Connection, token_id: str, now: datetime) -> TokenRecord:
    """Revoke (idempotent: a revoked token keeps its first revocation time)."""
    conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return by_id(conn, token_id)


def touch(conn: Connection, token_id: str, now: datetime) -> None:
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id)
                 .values(last_used_at=now))


def _record(row: Any) -> TokenRecord:
    return TokenRecord(id=row.id, name=row.name, created_at=row.created_at,
                       last_used_at=row.last_used_at, revoked_at=row.revoked_at,
                       kind=row.kind)


def prune_sessions_batch(conn: Connection, before: datetime, limit: int) -> int:
    """Browser-session rows opened before ``before``: long expired (sessions last 12 h),
    revoked or not. API tokens are never pruned."""
    ids = list(conn.scalars(
        sa.select(api_tokens.c.id)
        .where(api_tokens.c.kind == SESSION, api_tokens.c.created_at < before)
        .limit(limit)
    ))
    if ids:
        conn.execute(api_tokens.delete().where(api_tokens.c.id.in_(ids)))
    return len(ids)
