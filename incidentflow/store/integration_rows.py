"""Integrations in SQL: one row per named integration, its non-secret configuration
and its secret fields as ciphertext (encrypted before they reach the store).
Functions of an open transaction (``SqlStore`` composes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import NotFound
from incidentflow.store.records import IntegrationRecord
from incidentflow.store.schema import integrations


def put(
    conn: Connection, name: str, type_: str, config: dict[str, Any],
    secrets_encrypted: dict[str, str], status: str, reason: str, now: datetime,
) -> IntegrationRecord:
    """Create or replace (its creation time survives a replace)."""
    values = {
        "type": type_, "config": config, "secrets_enc": secrets_encrypted,
        "status": status, "reason": reason, "updated_at": now,
    }
    changed = conn.execute(
        integrations.update().where(integrations.c.name == name).values(**values)
    ).rowcount
    if not changed:
        conn.execute(integrations.insert().values(name=name, created_at=now, **values))
    return get(conn, name)


def get(conn: Connection, name: str) -> IntegrationRecord:
    row = conn.execute(sa.select(integrations).where(integrations.c.name == name)).first()
    if row is None:
        raise NotFound(f"integration {name!r} does not exist")
    return _record(row)


def list_all(conn: Connection) -> list[IntegrationRecord]:
    rows = conn.execute(sa.select(integrations).order_by(integrations.c.name))
    return [_record(row) for row in rows]


def delete(conn: Connection, name: str) -> None:
    gone = conn.execute(integrations.delete().where(integrations.c.name == name)).rowcount
    if not gone:
        raise NotFound(f"integration {name!r} does not exist")


def _record(row: Any) -> IntegrationRecord:
    return IntegrationRecord(
        name=row.name, type=row.type, config=row.config, secrets_encrypted=row.secrets_enc,
        status=row.status, reason=row.reason, created_at=row.created_at,
        updated_at=row.updated_at,
    )
