"""Webhook endpoints: one per webhook-trigger node, kept across edits
(docs/design-rules.md, "Stable webhook URLs")."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.errors import NotFound
from incidentflow.store.port import DeliveryOutcome, Endpoint
from incidentflow.store.schema import endpoints

SECRET_GRACE = timedelta(hours=24)  # docs/design-rules.md, "Secret rotation grace"
OUTCOMES: tuple[DeliveryOutcome, ...] = (
    "accepted", "duplicate", "rejected", "ignored", "filtered", "paused")


def new_endpoint_id() -> str:
    return secrets.token_urlsafe(18)


def sync(conn: Connection, canvas: str, trigger_nodes: Collection[str], now: datetime) -> None:
    """Create endpoints for new webhook-trigger nodes; drop those of removed ones.
    Existing endpoints keep their id and secret whatever their configuration became."""
    existing = set(conn.scalars(sa.select(endpoints.c.node).where(endpoints.c.canvas == canvas)))
    wanted = set(trigger_nodes)
    for node in sorted(wanted - existing):
        conn.execute(
            endpoints.insert().values(
                id=new_endpoint_id(), canvas=canvas, node=node, created_at=now
            )
        )
    gone = existing - wanted
    if gone:
        conn.execute(
            endpoints.delete().where(endpoints.c.canvas == canvas, endpoints.c.node.in_(gone))
        )


def by_id(conn: Connection, endpoint_id: str, now: datetime) -> Endpoint:
    row = conn.execute(sa.select(endpoints).where(endpoints.c.id == endpoint_id)).first()
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id!r} does not exist")
    return _endpoint(row._mapping, now)


def by_node(conn: Connection, canvas: str, node: str, now: datetime) -> Endpoint:
    row = conn.execute(
        sa.select(endpoints).where(endpoints.c.canvas == canvas, endpoints.c.node == node)
    ).first()
    if row is None:
        raise NotFound(f"node {node!r} of canvas {canvas!r} has no webhook endpoint")
    return _endpoint(row._mapping, now)


def set_secret(
    conn: Connection, canvas: str, node: str, secret_encrypted: str | None, now: datetime
) -> Endpoint:
    current = by_node(conn, canvas, node, now)
    values: dict[str, Any] = {
        "secret_enc": secret_encrypted, "previous_secret_enc": None, "previous_valid_until": None
    }
    if secret_encrypted is not None and current.secret_configured:
        values["previous_secret_enc"] = current.secrets_encrypted[0]
        values["previous_valid_until"] = now + SECRET_GRACE
    conn.execute(endpoints.update().where(endpoints.c.id == current.id).values(**values))
    return by_id(conn, current.id, now)


def count(conn: Connection, endpoint_id: str, outcome: DeliveryOutcome, now: datetime) -> None:
    column = endpoints.c[f"{outcome}_count"]
    conn.execute(
        endpoints.update()
        .where(endpoints.c.id == endpoint_id)
        .values({column: column + 1, endpoints.c.last_delivery_at: now})
    )


def _endpoint(row: Any, now: datetime) -> Endpoint:
    valid = [row["secret_enc"]] if row["secret_enc"] else []
    until = row["previous_valid_until"]
    in_grace = bool(row["previous_secret_enc"]) and until is not None and until > now
    if in_grace:
        valid.append(row["previous_secret_enc"])
    return Endpoint(
        id=row["id"], canvas=row["canvas"], node=row["node"],
        secret_configured=row["secret_enc"] is not None,
        secrets_encrypted=tuple(valid), last_delivery_at=row["last_delivery_at"],
        counts={outcome: row[f"{outcome}_count"] for outcome in OUTCOMES},
        previous_valid_until=until if in_grace else None,
    )
