"""Secrets for canvases: one encrypted value per name (migration ``0006``).

Values arrive here already encrypted by ``SecretBox``; this module never sees plain
text. The table is declared on ``store.schema.metadata`` so the
migrations-match-metadata test sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import NotFound
from incidentflow.store.records import SecretRecord
from incidentflow.store.schema import NAME, UTCDateTime, metadata

canvas_secrets = sa.Table(
    "canvas_secrets",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("value_enc", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


# -- functions on an open transaction (SqlStore composes them) --------------------------


def put(conn: Connection, name: str, value_encrypted: str, now: datetime) -> SecretRecord:
    """Create, or replace the value (``created_at`` stays, ``updated_at`` moves)."""
    if not _replace(conn, name, value_encrypted, now):
        try:
            with conn.begin_nested():  # another process may create the same name meanwhile
                conn.execute(canvas_secrets.insert().values(
                    name=name, value_enc=value_encrypted, created_at=now, updated_at=now))
        except sa.exc.IntegrityError:
            _replace(conn, name, value_encrypted, now)
    return by_name(conn, name)


def _replace(conn: Connection, name: str, value_encrypted: str, now: datetime) -> bool:
    changed = conn.execute(
        canvas_secrets.update().where(canvas_secrets.c.name == name)
        .values(value_enc=value_encrypted, updated_at=now)
    ).rowcount
    return bool(changed)


def by_name(conn: Connection, name: str) -> SecretRecord:
    row = conn.execute(_RECORDS.where(canvas_secrets.c.name == name)).first()
    if row is None:
        raise NotFound(f"secret {name!r} does not exist")
    return _record(row)


def list_all(conn: Connection) -> list[SecretRecord]:
    return [_record(row) for row in conn.execute(_RECORDS.order_by(canvas_secrets.c.name))]


def delete(conn: Connection, name: str) -> None:
    gone = conn.execute(canvas_secrets.delete().where(canvas_secrets.c.name == name)).rowcount
    if not gone:
        raise NotFound(f"secret {name!r} does not exist")


def all_encrypted(conn: Connection) -> dict[str, str]:
    """Every secret's ciphertext by name: what the worker decrypts for templates."""
    rows = conn.execute(sa.select(canvas_secrets.c.name, canvas_secrets.c.value_enc))
    return {row.name: row.value_enc for row in rows}


# Metadata only: listing never reads a ciphertext it does not need.
_RECORDS = sa.select(canvas_secrets.c.name, canvas_secrets.c.created_at,
                     canvas_secrets.c.updated_at)


def _record(row: Any) -> SecretRecord:
    return SecretRecord(name=row.name, created_at=row.created_at, updated_at=row.updated_at)
