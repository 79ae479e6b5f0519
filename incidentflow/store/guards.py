"""The self-trigger guard's records: what each canvas's create actions opened.

A row per create execution: written "in_flight" before the action calls out (so a
webhook that overtakes the action's answer still finds it), made "created" with the
object's id in the transaction that records the action's success (``store.finishes``),
removed when the action fails. The receiver asks ``lookup`` only for canvases that
both create and listen for a kind of object; nothing else reads this table.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from incidentflow.store.port import SelfCreated
from incidentflow.store.schema import created_objects

IN_FLIGHT = "in_flight"
CREATED = "created"

_co = created_objects.c
_LOOKUP = sa.select(_co.execution_id, _co.run_id, _co.state).where(
    _co.canvas == sa.bindparam("b_canvas"),
    _co.kind.in_(sa.bindparam("b_kinds", expanding=True)),
    sa.or_(
        sa.and_(_co.state == CREATED, _co.object_id == sa.bindparam("b_object")),
        sa.and_(_co.state == IN_FLIGHT, _co.started_at >= sa.bindparam("b_since")),
    ),
)
# Completed with the finish that records the create's success (store.finishes).
MARK_CREATED = (
    created_objects.update()
    .where(_co.execution_id == sa.bindparam("b_execution"))
    .values(state=CREATED, object_id=sa.bindparam("v_object"),
            created_at=sa.bindparam("v_created_at"))
)


_FORGET = created_objects.delete().where(
    _co.execution_id == sa.bindparam("b_execution"), _co.state == IN_FLIGHT)


def _begin(dialect: Any) -> Any:
    """In flight: a new row, or the row of an earlier attempt started again; one
    statement, built once (a storm begins a create per alert)."""
    insert = dialect.insert(created_objects).values(
        execution_id=sa.bindparam("b_execution"), canvas=sa.bindparam("b_canvas"),
        kind=sa.bindparam("b_kind"), run_id=sa.bindparam("b_run"), state=IN_FLIGHT,
        object_id=None, started_at=sa.bindparam("b_now"), created_at=None)
    again = {name: insert.excluded[name] for name in
             ("canvas", "kind", "run_id", "state", "object_id", "started_at", "created_at")}
    return insert.on_conflict_do_update(index_elements=["execution_id"], set_=again)


# By "is it PostgreSQL?" (the stores are SQLite and PostgreSQL).
_BEGIN = {False: _begin(sqlite), True: _begin(postgresql)}


def begin(conn: Connection, canvas: str, kind: str, execution_id: str, run_id: str,
          now: datetime) -> None:
    """In flight from ``now``; a retried attempt starts the clock again."""
    conn.execute(_BEGIN[conn.dialect.name == "postgresql"],
                 {"b_execution": execution_id, "b_canvas": canvas, "b_kind": kind,
                  "b_run": run_id, "b_now": now})


def forget(conn: Connection, execution_id: str) -> None:
    conn.execute(_FORGET, {"b_execution": execution_id})


def lookup(conn: Connection, canvas: str, kinds: Collection[str], object_id: str,
           since: datetime) -> SelfCreated:
    params: dict[str, Any] = {"b_canvas": canvas, "b_kinds": sorted(kinds),
                              "b_object": object_id, "b_since": since}
    created_by, in_flight = None, set()
    for row in conn.execute(_LOOKUP, params):
        if row.state == CREATED:
            created_by = row.run_id
        else:
            in_flight.add(row.execution_id)
    return SelfCreated(created_by, frozenset(in_flight))


def created_rows(finished: list[tuple[str, str, datetime]]) -> list[dict[str, Any]]:
    """``MARK_CREATED`` parameters for (execution id, object id, time) triples."""
    return [{"b_execution": execution, "v_object": object_id, "v_created_at": at}
            for execution, object_id, at in finished]


def prune_batch(conn: Connection, before: datetime, limit: int) -> int:
    """Records of creates started before ``before`` (as old as the runs pruned)."""
    ids = list(conn.scalars(
        sa.select(_co.execution_id).where(_co.started_at < before).limit(limit)))
    if ids:
        conn.execute(created_objects.delete().where(_co.execution_id.in_(ids)))
    return len(ids)
