"""A run's trigger event replaced by a completed one (``Emission.root``).

A private incident.io delivery carries only an id; the trigger's first step fetches
the object and its event becomes the run's trigger event, so later steps read
``root.data.incident.name`` as for a public delivery. The row keeps its id (the run
and its first execution point at it); only its content changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.events import Event
from incidentflow.store.schema import events, runs


def replace(conn: Connection, run_id: str, event: Event) -> bool:
    """True if the run exists (its trigger event now is ``event``)."""
    root = sa.select(runs.c.root_event_id).where(runs.c.id == run_id).scalar_subquery()
    done = conn.execute(events.update().where(events.c.id == root).values(
        type=event.type, timestamp=event.timestamp, data=event.data))
    return bool(done.rowcount)
