"""On Incident's catch-up poll in the store: each (node, incident, ``updated_at``) runs
once, whether its webhook or the poll saw it first.

The poll inserts the change's row in the transaction that starts its run; a webhook's
delivery claims it just before it is accepted. ``ON CONFLICT DO NOTHING`` on the
primary key decides, on SQLite and PostgreSQL alike, across any number of workers: a
poll that finds the row starts nothing; a webhook that finds the poll's row starts
nothing (one that finds another webhook's row runs: two event types of one change,
e.g. updated and status updated, are two runs the node asked for).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from incidentflow.store.records import CatchUpState  # noqa: F401 (re-exported)
from incidentflow.store.schema import catch_up_polls, incident_changes

POLL = "poll"
# A change's row is kept this long: incident.io retries a webhook for about a day, and
# one arriving after the poll ran its change must still find the row. Older rows are
# deleted by the node's next poll (no other cleanup needed).
KEEP = timedelta(hours=48)


def _insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def record_change(conn: Connection, canvas: str, node: str, incident_id: str, updated_at: str,
                  source: str, now: datetime) -> bool:
    """Insert the change's row; False if one was there already."""
    inserted = _insert(conn, incident_changes).values(
        canvas=canvas, node=node, incident_id=incident_id, updated_at=updated_at,
        source=source, run_id=None, recorded_at=now,
    ).on_conflict_do_nothing().returning(incident_changes.c.source)
    return conn.execute(inserted).first() is not None  # rowcount may be -1 here


def claim_for_webhook(conn: Connection, canvas: str, node: str, incident_id: str,
                      updated_at: str, webhook_id: str, now: datetime) -> bool:
    """False only when the poll already started this change's run."""
    if record_change(conn, canvas, node, incident_id, updated_at, webhook_id, now):
        return True
    source = conn.execute(sa.select(incident_changes.c.source).where(
        incident_changes.c.canvas == canvas, incident_changes.c.node == node,
        incident_changes.c.incident_id == incident_id,
        incident_changes.c.updated_at == updated_at)).scalar_one_or_none()
    return source != POLL


def note_run(conn: Connection, canvas: str, node: str, incident_id: str, updated_at: str,
             run_id: str) -> None:
    conn.execute(incident_changes.update().where(
        incident_changes.c.canvas == canvas, incident_changes.c.node == node,
        incident_changes.c.incident_id == incident_id,
        incident_changes.c.updated_at == updated_at).values(run_id=run_id))


def state(conn: Connection, canvas: str, node: str) -> CatchUpState | None:
    row = conn.execute(sa.select(catch_up_polls).where(
        catch_up_polls.c.canvas == canvas, catch_up_polls.c.node == node)).first()
    if row is None:
        return None
    return CatchUpState(row.canvas, row.node, row.since, row.last_poll_at, row.last_found,
                        row.last_error)


def note_poll(conn: Connection, canvas: str, node: str, since: datetime, polled_at: datetime,
              found: int, error: str | None) -> None:
    values = {"since": since, "last_poll_at": polled_at, "last_found": found,
              "last_error": error}
    upsert = _insert(conn, catch_up_polls).values(canvas=canvas, node=node, **values)
    conn.execute(upsert.on_conflict_do_update(
        index_elements=[catch_up_polls.c.canvas, catch_up_polls.c.node], set_=values))
    conn.execute(incident_changes.delete().where(
        incident_changes.c.canvas == canvas, incident_changes.c.node == node,
        incident_changes.c.recorded_at < polled_at - KEEP))
