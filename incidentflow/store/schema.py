"""The tables, as SQLAlchemy Core metadata (the Alembic migrations must match it).

Events are stored once and referenced: a run points at its trigger event, an
execution at its input event; ``events.execution_id`` says which execution emitted it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# States as SQL literals, not bound parameters: only then can a query planner see that
# a partial index (``state = 'queued'``) covers the query.
QUEUED: sa.ColumnElement[str] = sa.literal_column("'queued'")
RUNNING: sa.ColumnElement[str] = sa.literal_column("'running'")


def _partial(name: str, columns: tuple[str, ...], where: str) -> sa.Index:
    condition = sa.text(where)
    return sa.Index(name, *columns, sqlite_where=condition, postgresql_where=condition)


ID = sa.String(40)
NAME = sa.String(200)


def _cascade(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


canvases = sa.Table(
    "canvases",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Set while the canvas is paused (migration 0007): deliveries are held, nothing starts.
    sa.Column("paused_at", UTCDateTime),
)

canvas_versions = sa.Table(
    "canvas_versions",
    metadata,
    sa.Column("canvas", NAME, _cascade("canvases.name"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

endpoints = sa.Table(
    "endpoints",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("canvas", NAME, _cascade("canvases.name"), nullable=False),
    sa.Column("node", NAME, nullable=False),
    sa.Column("secret_enc", sa.Text),
    sa.Column("previous_secret_enc", sa.Text),
    sa.Column("previous_valid_until", UTCDateTime),
    sa.Column("accepted_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duplicate_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ignored_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("filtered_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("paused_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_delivery_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("canvas", "node"),
)

# webhook_id is NULL for rejected deliveries (and senders without one): NULLs never
# collide in a unique constraint, so only real ids are deduplicated.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("endpoint_id", ID, _cascade("endpoints.id"), nullable=False),
    sa.Column("webhook_id", sa.String(200)),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    # A rejection's code (components.base.RejectionCode); NULL for accepted deliveries.
    sa.Column("code", sa.String(40)),
    sa.Column("run_id", ID),
    sa.Column("received_at", UTCDateTime, nullable=False),
    # The events a delivery to a paused canvas carried, kept until the canvas resumes
    # (then run or discarded, and set back to NULL).
    sa.Column("held_events", sa.JSON(none_as_null=True)),
    sa.UniqueConstraint("endpoint_id", "webhook_id"),
    sa.Index(None, "endpoint_id", "received_at"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("canvas", NAME, _cascade("canvases.name"), nullable=False),
    sa.Column("canvas_version", sa.Integer, nullable=False),
    sa.Column("trigger_node", NAME, nullable=False),
    sa.Column("root_event_id", ID, nullable=False),  # no FK: the event row points back
    sa.Column("state", sa.String(20), nullable=False),
    # Executions not yet succeeded/failed. Updating it is what serializes the
    # finishes of one run, so exactly one of them sees it reach 0 and settles the run.
    sa.Column("pending", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    # A replay (migration 0013): the run it repeats, and the bulk replay that started it.
    sa.Column("replay_of", ID),
    sa.Column("replay_batch", ID),
    sa.Index(None, "canvas", "id"),
    sa.Index(None, "replay_of"),
    sa.Index(None, "replay_batch"),
    sa.Index(None, "canvas", "state", "id"),  # the run list filtered by state
    sa.Index(None, "canvas", "created_at"),  # the run list by time, the 24-hour chart
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("run_id", ID, _cascade("runs.id"), nullable=False),
    sa.Column("node", NAME, nullable=False),  # the node that emitted it
    sa.Column("execution_id", ID),  # NULL for a run's trigger event
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("timestamp", sa.String(40), nullable=False),
    sa.Column("data", sa.JSON),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "run_id", "node"),
    sa.Index(None, "execution_id"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("run_id", ID, _cascade("runs.id"), nullable=False),
    sa.Column("node", NAME, nullable=False),
    sa.Column("input_event_id", ID, _cascade("events.id"), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("idempotency_key", sa.String(100), nullable=False),
    sa.Column("resolved_config", sa.JSON),
    sa.Column("error", sa.Text),
    sa.Column("error_details", sa.JSON),
    sa.Column("concurrency_key", sa.String(500)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    # When the create rate limit let this execution through (a slot, or a person's
    # release): its retries and a released one are not counted again (0008).
    sa.Column("admitted_at", UTCDateTime),
    # When the current (or last) attempt was claimed (0013); ``started_at`` is the first.
    sa.Column("attempt_started_at", UTCDateTime),
    sa.Index(None, "run_id", "state"),  # the run page, and "is the run finished?"
    # Partial (migration 0005): finished executions, most rows, sit in none of these.
    # claim: due queued work, and running work whose lease expired
    _partial("ix_executions_queued_due", ("next_attempt_at", "id"), "state = 'queued'"),
    _partial("ix_executions_running_lease", ("lease_expires_at",), "state = 'running'"),
    # claim: is an earlier execution of this key still open?
    _partial("ix_executions_keyed", ("concurrency_key", "state"), "concurrency_key IS NOT NULL"),
    # what a tripped node holds (0008): few rows, found by node without a scan
    _partial("ix_executions_held", ("node", "run_id"), "state = 'held'"),
)

integrations = sa.Table(
    "integrations",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("secrets_enc", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


# The create rate limit (``store.node_limits``, migration 0008): one row per node of a
# canvas whose executions create things elsewhere. A slot is taken by updating this
# row, so the count holds across processes; ``tripped_at`` latches until a person
# resumes the node.
node_limits = sa.Table(
    "node_limits",
    metadata,
    sa.Column("canvas", NAME, _cascade("canvases.name"), primary_key=True),
    sa.Column("node", NAME, primary_key=True),
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("window_count", sa.Integer, nullable=False),
    sa.Column("tripped_at", UTCDateTime),
)

# What create actions opened elsewhere (self-trigger guard, ``store.guards``): a row is
# written "in_flight" before the action calls out, and becomes "created" with the
# object's id in the transaction that records the action's success.
created_objects = sa.Table(
    "created_objects",
    metadata,
    sa.Column("execution_id", ID, primary_key=True),
    sa.Column("canvas", NAME, _cascade("canvases.name"), nullable=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("object_id", sa.String(200)),
    sa.Column("run_id", ID, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime),
    sa.Index(None, "canvas", "kind", "object_id"),
    sa.Index(None, "canvas", "state"),
    sa.Index(None, "started_at"),
)

# Schedule triggers (``store.schedules``, migration 0009): one row per schedule node of
# a canvas's current version (kept in step when the canvas is saved), with its last
# fire or skip; and one row per due time that fired or was skipped. The primary key of
# ``schedule_fires`` is what makes a due time fire once across workers: the row is
# inserted in the transaction that starts the run, so a second worker's insert loses.
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("canvas", NAME, _cascade("canvases.name"), primary_key=True),
    sa.Column("node", NAME, primary_key=True),
    sa.Column("cron", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(100), nullable=False),
    sa.Column("catch_up_minutes", sa.Integer, nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),  # no due time before this fires
    sa.Column("last_due_at", UTCDateTime),
    sa.Column("last_outcome", sa.String(20)),  # "fired" or "skipped"
    sa.Column("last_run_id", ID),
    sa.Column("last_at", UTCDateTime),
)
schedule_fires = sa.Table(
    "schedule_fires",
    metadata,
    sa.Column("canvas", NAME, _cascade("canvases.name"), primary_key=True),
    sa.Column("node", NAME, primary_key=True),
    sa.Column("due_at", UTCDateTime, primary_key=True),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("run_id", ID),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

# What a waiting step waits for (``store.waits``, migration 0010): one row per execution
# of an ``approval`` (or any other waiting kind) while it waits and after. The
# execution itself stays queued until ``until`` (its timeout; NULL: none), so the
# existing due-time machinery fires the timeout. Whoever settles the wait (a decision,
# the timeout, a cancel) does so by one conditional UPDATE of ``settled_at``: the
# first one wins, across processes, and every later one finds it settled.
waits = sa.Table(
    "waits",
    metadata,
    sa.Column("execution_id", ID, _cascade("executions.id"), primary_key=True),
    sa.Column("run_id", ID, _cascade("runs.id"), nullable=False),
    sa.Column("canvas", NAME, nullable=False),
    sa.Column("node", NAME, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),  # "approval", "event", ...
    sa.Column("key", sa.String(200)),  # Waiting.key: what finds it (e.g. an event type)
    sa.Column("summary", sa.Text, nullable=False),  # "approval: Publish the status page?"
    sa.Column("detail", sa.JSON, nullable=False),  # the kind's own description
    sa.Column("began_at", UTCDateTime, nullable=False),
    sa.Column("until", UTCDateTime),
    sa.Column("settled_at", UTCDateTime),
    sa.Column("outcome", sa.JSON(none_as_null=True)),  # the kind's own result
    sa.Index(None, "run_id", "node"),
    # open waits by kind: the waiting-for-you list and the waiting metrics
    _partial("ix_waits_open", ("kind", "began_at"), "settled_at IS NULL"),
    # open waits of a kind and key in a canvas: what an arriving event may settle
    _partial("ix_waits_open_key", ("kind", "canvas", "key"), "settled_at IS NULL"),
)
# On Incident's catch-up poll (``store.catch_up``, migration 0012): one row per node,
# incident and ``updated_at`` seen, inserted in the transaction that starts the poll's
# run (``source`` "poll") or before a webhook's delivery is accepted (its webhook-id):
# its primary key is what makes a change run once when both arrive; and one row per
# node with the poll's progress (shown on the node).
incident_changes = sa.Table(
    "incident_changes",
    metadata,
    sa.Column("canvas", NAME, _cascade("canvases.name"), primary_key=True),
    sa.Column("node", NAME, primary_key=True),
    sa.Column("incident_id", sa.String(100), primary_key=True),
    sa.Column("updated_at", sa.String(40), primary_key=True),  # as incident.io sent it
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("run_id", ID),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Index(None, "recorded_at"),
)
catch_up_polls = sa.Table(
    "catch_up_polls",
    metadata,
    sa.Column("canvas", NAME, _cascade("canvases.name"), primary_key=True),
    sa.Column("node", NAME, primary_key=True),
    sa.Column("since", UTCDateTime, nullable=False),  # the newest updated_at seen
    sa.Column("last_poll_at", UTCDateTime, nullable=False),
    sa.Column("last_found", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
)

# Each ended attempt of an execution (``store.attempts``, migration 0013): written in the
# transaction that records the attempt's outcome (retry, failure; a success only when
# earlier attempts failed, since then the execution row says it all). Deleted with
# the execution (foreign key cascade), so retention needs nothing more.
execution_attempts = sa.Table(
    "execution_attempts",
    metadata,
    sa.Column("execution_id", ID, _cascade("executions.id"), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("run_id", ID, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # retrying, failed, succeeded
    sa.Column("error", sa.Text),
    sa.Column("error_details", sa.JSON),
    sa.Column("started_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),  # retrying: when the next one is due
    sa.Index(None, "run_id"),
)

# The ``waitForEvent`` step (``store.event_waits``, migration 0011). A waiting execution
# is queued until its timeout; ``event_waits`` says what it waits for, keyed for the
# index rule (``event_match``): (canvas, event type, event path, key). An arriving event
# of a run's trigger is looked up there by the value at each path the canvas's waits use
# (``event_wait_paths``: a handful of rows, read once per batch of deliveries) and
# copied to ``event_wait_offers`` of each candidate, whose execution is made due at
# once; the worker then evaluates the whole ``match`` on its offers.
event_waits = sa.Table(
    "event_waits",
    metadata,
    sa.Column("execution_id", ID, _cascade("executions.id"), primary_key=True),
    sa.Column("run_id", ID, _cascade("runs.id"), nullable=False),
    sa.Column("canvas", NAME, nullable=False),
    sa.Column("node", NAME, nullable=False),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("match", sa.Text, nullable=False),
    sa.Column("match_path", sa.String(500), nullable=False),  # "" when keyless
    sa.Column("match_key", sa.String(500)),  # NULL: no key (found by no event's value)
    sa.Column("began_at", UTCDateTime, nullable=False),
    sa.Column("timeout_at", UTCDateTime, nullable=False),
    sa.Index(None, "canvas", "event_type", "match_path", "match_key"),
    sa.Index(None, "run_id"),
)
event_wait_paths = sa.Table(
    "event_wait_paths",
    metadata,
    sa.Column("canvas", NAME, _cascade("canvases.name"), primary_key=True),
    sa.Column("event_type", sa.String(200), primary_key=True),
    sa.Column("match_path", sa.String(500), primary_key=True),
)
event_wait_offers = sa.Table(
    "event_wait_offers",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("execution_id", ID, _cascade("event_waits.execution_id"), nullable=False),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("timestamp", sa.String(40), nullable=False),
    sa.Column("data", sa.JSON),
    sa.Column("arrived_at", UTCDateTime, nullable=False),
    sa.Index(None, "execution_id", "id"),
)
