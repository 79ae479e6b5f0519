"""Canvases in SQL: versions saved by content hash, the current one read back, summaries
for the list, deletion. Functions of an open transaction (``SqlStore`` composes them).

Which nodes get webhook endpoints or schedules, and which are triggers, is decided by
the caller and passed in: this module knows rows, not the component catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.canvas import Canvas, Node
from incidentflow.errors import NotFound
from incidentflow.store import endpoints as endpoint_rows
from incidentflow.store import schedules as schedule_rows
from incidentflow.store.codec import canvas_from_spec, canvas_to_spec, spec_hash
from incidentflow.store.records import CanvasRecord, CanvasSummary, SavedCanvas
from incidentflow.store.schema import canvas_versions, canvases, runs

_CURRENT = sa.and_(
    canvas_versions.c.canvas == canvases.c.name,
    canvas_versions.c.version == canvases.c.current_version,
)


def save(
    conn: Connection, canvas: Canvas, source: str, warnings: list[dict[str, Any]],
    now: datetime, webhook_nodes: Iterable[str], schedule_nodes: Iterable[Node],
) -> SavedCanvas:
    """A new version unless the content hash equals the current one; endpoints and
    schedules kept in step with the nodes that need them."""
    spec = canvas_to_spec(canvas)
    digest = spec_hash(spec)
    current = conn.execute(
        sa.select(canvases.c.current_version, canvas_versions.c.content_hash)
        .join(canvas_versions, _CURRENT)
        .where(canvases.c.name == canvas.name)
    ).first()
    if current is not None and current.content_hash == digest:
        return SavedCanvas(canvas.name, current.current_version, created=False)
    version = 1 if current is None else current.current_version + 1
    _upsert(conn, canvas.name, version, now)
    conn.execute(canvas_versions.insert().values(
        canvas=canvas.name, version=version, spec=spec, source=source,
        content_hash=digest, warnings=warnings, created_at=now,
    ))
    endpoint_rows.sync(conn, canvas.name, list(webhook_nodes), now)
    schedule_rows.sync(conn, canvas.name, list(schedule_nodes), now)
    return SavedCanvas(canvas.name, version, created=True)


def get(conn: Connection, name: str, version: int | None = None) -> CanvasRecord:
    head = conn.execute(sa.select(canvases).where(canvases.c.name == name)).first()
    if head is None:
        raise NotFound(f"canvas {name!r} does not exist")
    wanted = head.current_version if version is None else version
    row = conn.execute(
        sa.select(canvas_versions).where(
            canvas_versions.c.canvas == name, canvas_versions.c.version == wanted)
    ).first()
    if row is None:
        raise NotFound(f"canvas {name!r} has no version {wanted}")
    return CanvasRecord(
        name=name, version=wanted, canvas=canvas_from_spec(row.spec), source=row.source,
        created_at=head.created_at, updated_at=head.updated_at, warnings=row.warnings,
        paused_at=head.paused_at,
    )


def summaries(
    conn: Connection, trigger_nodes: Callable[[Canvas], list[str]]
) -> list[CanvasSummary]:
    """Every canvas's current version with its last run, by name."""
    heads = conn.execute(
        sa.select(canvases, canvas_versions.c.spec)
        .join(canvas_versions, _CURRENT)
        .order_by(canvases.c.name)
    ).all()
    return [_summary(conn, head, trigger_nodes) for head in heads]


def delete(conn: Connection, name: str) -> None:
    gone = conn.execute(canvases.delete().where(canvases.c.name == name)).rowcount
    if not gone:
        raise NotFound(f"canvas {name!r} does not exist")


def current_version(conn: Connection, canvas: str) -> int:
    version = conn.scalar(sa.select(canvases.c.current_version).where(canvases.c.name == canvas))
    if version is None:
        raise NotFound(f"canvas {canvas!r} does not exist")
    return int(version)


def _summary(
    conn: Connection, head: Any, trigger_nodes: Callable[[Canvas], list[str]]
) -> CanvasSummary:
    last = conn.execute(
        sa.select(runs.c.id, runs.c.state, runs.c.created_at)
        .where(runs.c.canvas == head.name)
        .order_by(runs.c.id.desc())
        .limit(1)
    ).first()
    return CanvasSummary(
        name=head.name, version=head.current_version, updated_at=head.updated_at,
        triggers=trigger_nodes(canvas_from_spec(head.spec)),
        last_run_id=last.id if last else None,
        last_run_state=last.state if last else None,
        last_run_at=last.created_at if last else None,
        paused_at=head.paused_at,
    )


def _upsert(conn: Connection, name: str, version: int, now: datetime) -> None:
    changed = conn.execute(
        canvases.update().where(canvases.c.name == name)
        .values(current_version=version, updated_at=now)
    ).rowcount
    if not changed:
        conn.execute(canvases.insert().values(
            name=name, current_version=version, created_at=now, updated_at=now))
