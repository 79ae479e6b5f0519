"""The record types of the storage port: what a ``Store`` takes and returns.

Plain frozen dataclasses with no database in them, so the engine, the web layer and
the CLI can hold them without importing a store implementation. ``store.port``
re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from incidentflow.canvas import Canvas
from incidentflow.events import FILTERED_REASON, Event  # noqa: F401  (re-exported)

# "held": a tripped node's execution waiting for a person; "discarded": one they dropped.
# "cancelled": a person cancelled its run before it ran (or while it ran: its outcome
# was refused).
ExecutionState = Literal["queued", "running", "succeeded", "failed", "held", "discarded",
                         "cancelled"]
RunState = Literal["running", "succeeded", "failed", "cancelled"]
DeliveryOutcome = Literal["accepted", "duplicate", "rejected", "ignored", "filtered", "paused"]


@dataclass(frozen=True)
class SavedCanvas:
    name: str
    version: int
    created: bool  # False when the content was unchanged (no new version)


@dataclass(frozen=True)
class CanvasRecord:
    name: str
    version: int
    canvas: Canvas
    source: str  # the YAML/JSON text as the user sent it for this version
    created_at: datetime
    updated_at: datetime
    warnings: list[dict[str, Any]] = field(default_factory=list)
    paused_at: datetime | None = None  # set while the canvas is paused


@dataclass(frozen=True)
class CanvasSummary:
    name: str
    version: int
    updated_at: datetime
    triggers: list[str]  # node names of trigger nodes
    last_run_id: str | None
    last_run_state: RunState | None
    last_run_at: datetime | None
    paused_at: datetime | None = None


@dataclass(frozen=True)
class Endpoint:
    """One webhook endpoint, owned by one trigger node
    (docs/design-rules.md, "Stable webhook URLs")."""

    id: str  # the opaque path segment in /webhooks/{id}
    canvas: str
    node: str
    secret_configured: bool
    # Encrypted secrets still accepted: current first, then the previous one while
    # its 24-hour grace period lasts. Decrypt with SecretBox.
    secrets_encrypted: tuple[str, ...]
    last_delivery_at: datetime | None
    counts: dict[str, int]  # by DeliveryOutcome
    # When the previous secret (if it is among the valid ones) stops being valid.
    previous_valid_until: datetime | None = None


@dataclass(frozen=True)
class DeliveryRecord:
    id: str
    endpoint_id: str
    webhook_id: str | None
    outcome: DeliveryOutcome
    reason: str
    received_at: datetime
    run_id: str | None
    held: int = 0  # events a paused canvas holds for this delivery until it resumes
    code: str = ""  # a rejection's code (components.base.RejectionCode); "" otherwise


@dataclass(frozen=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    run_ids: list[str]
    reason: str = ""  # why nothing started (ignored, paused), as the delivery log says


@dataclass(frozen=True)
class SelfCreated:
    """What the self-trigger guard knows about one object id on one canvas."""

    created_by: str | None  # the run that created it, if this canvas did
    in_flight: frozenset[str]  # execution ids of this canvas's creates not yet answered


@dataclass(frozen=True)
class Resumed:
    """What resuming a paused canvas did with the deliveries it held."""

    run_ids: list[str]
    discarded: int


@dataclass(frozen=True)
class NewExecution:
    """An execution to enqueue: ``node`` of the run's canvas handles ``input``."""

    node: str
    input: Event
    concurrency_key: str | None = None
    # Queued until then (the ``wait`` step): claimed no earlier, never handed over.
    not_before: datetime | None = None


@dataclass(frozen=True)
class ClaimedExecution:
    id: str
    run_id: str
    canvas: str
    canvas_version: int
    node: str
    input: Event
    attempt: int  # 1 on the first try
    idempotency_key: str
    root: Event  # the run's trigger event
    lease_expires_at: datetime


@dataclass(frozen=True)
class Emitted:
    """An event a finished execution emitted, and the executions it enqueues."""

    event: Event
    channel: str
    downstream: list[NewExecution]
    # The id of the object this event reports created (create actions only): recorded
    # with the finish, so the self-trigger guard knows the object as this canvas's own.
    created_id: str | None = None


@dataclass(frozen=True)
class ExecutionRecord:
    id: str
    run_id: str
    node: str
    state: ExecutionState
    attempts: int
    idempotency_key: str
    input: Event
    resolved_config: dict[str, Any] | None  # secrets already masked
    emitted: list[dict[str, Any]]  # [{"channel", "event"}]
    error: str | None
    error_details: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    # When the current (or last) attempt started, and the ended attempts (store.attempts;
    # read with one run, empty in lists).
    attempt_started_at: datetime | None = None
    attempt_history: list[AttemptRecord] = field(default_factory=list)


@dataclass(frozen=True)
class RunRecord:
    id: str
    canvas: str
    canvas_version: int
    trigger_node: str
    state: RunState
    root: Event
    created_at: datetime
    finished_at: datetime | None
    executions: list[ExecutionRecord] = field(default_factory=list)
    replay_of: str | None = None  # the run this one replays
    replay_batch: str | None = None  # the bulk replay that started it
    replayed_as: list[str] = field(default_factory=list)  # its replays (read with one run)


@dataclass(frozen=True)
class IntegrationRecord:
    name: str
    type: str
    config: dict[str, Any]  # non-secret fields only
    secrets_encrypted: dict[str, str]  # field name -> ciphertext
    status: Literal["ready", "error", "unknown"]
    reason: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Admission:
    """What the create rate limit decided about one execution (``take_create_slot``)."""

    admitted: bool  # run it now
    held: bool = False  # not admitted: now held until the node is resumed
    tripped_now: bool = False  # this execution tripped the node (log and count once)


@dataclass(frozen=True)
class NodeLimitState:
    """A rate-limited node: its current window, whether it is tripped, what it holds."""

    canvas: str
    node: str
    window_start: datetime | None
    window_count: int
    tripped_at: datetime | None
    held: int  # executions held, waiting for a person

    @property
    def tripped(self) -> bool:
        return self.tripped_at is not None


@dataclass(frozen=True)
class NodeResumed:
    """What resuming a node did with the executions it held."""

    released: int = 0
    discarded: int = 0


@dataclass(frozen=True)
class TokenRecord:
    """An API token's (or a browser session row's) metadata; the token itself is never
    stored or returned."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    kind: str = "api"  # "api" or "session" (incidentflow.api_tokens)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_session(self) -> bool:
        return self.kind == "session"


@dataclass(frozen=True)
class SecretRecord:
    """A secret's name and dates; the value is never part of it."""

    name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ScheduleRecord:
    """A ``schedule`` trigger node of a saved canvas, and its last due time."""

    canvas: str
    node: str
    cron: str
    timezone: str
    catch_up_minutes: int
    since: datetime
    last_due_at: datetime | None
    last_outcome: str | None
    last_run_id: str | None
    last_at: datetime | None


@dataclass(frozen=True)
class Pruned:
    """What one retention batch (or a whole prune) deleted."""

    runs: int = 0
    deliveries: int = 0
    sessions: int = 0  # expired browser-session rows
    created_objects: int = 0  # self-trigger guard records as old as the runs
    schedule_fires: int = 0  # due times of schedules, but each schedule's latest

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(self.runs + other.runs, self.deliveries + other.deliveries,
                      self.sessions + other.sessions,
                      self.created_objects + other.created_objects,
                      self.schedule_fires + other.schedule_fires)

    @property
    def total(self) -> int:
        return (self.runs + self.deliveries + self.sessions + self.created_objects
                + self.schedule_fires)

    def full(self, batch_size: int) -> bool:
        """Did any part of this batch hit the limit (so more may be left)?"""
        return max(self.runs, self.deliveries, self.sessions,
                   self.created_objects, self.schedule_fires) >= batch_size


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt of an execution. ``ended_at`` None: it is running now (read from
    the execution row, not stored until it ends)."""

    attempt: int
    outcome: str  # retrying, failed, succeeded, lost; running (not stored)
    error: str | None
    error_details: dict[str, Any] | None
    started_at: datetime | None
    ended_at: datetime | None
    next_attempt_at: datetime | None  # retrying: when the next attempt is due

    @property
    def wait_seconds(self) -> float | None:
        """How long the execution waits (waited) before its next attempt."""
        if self.next_attempt_at is None or self.ended_at is None:
            return None
        return max(0.0, (self.next_attempt_at - self.ended_at).total_seconds())


@dataclass(frozen=True)
class CatchUpState:
    canvas: str
    node: str
    since: datetime  # the newest updated_at seen (or when the poll began)
    last_poll_at: datetime
    last_found: int
    last_error: str | None


@dataclass(frozen=True)
class EventWait:
    """What one waiting execution waits for (``Store.event_waits_of_run`` lists them)."""

    execution_id: str
    run_id: str
    canvas: str
    node: str
    event_type: str
    match: str
    match_path: str  # event_match.MatchRule.stored_path; "" when keyless
    match_key: str | None
    began_at: datetime
    timeout_at: datetime

    def describe(self) -> str:
        return f"an event {self.event_type} where {self.match}"


@dataclass(frozen=True)
class EventOffer:
    """An event offered to a wait, not yet evaluated against its ``match``."""

    id: str
    event: Event
    arrived_at: datetime


@dataclass(frozen=True)
class RunFilter:
    """Which runs: of ``canvas``, in one of ``states`` (all when empty), with an
    execution of ``node``, started in [``since``, ``until``)."""

    canvas: str
    states: tuple[str, ...] = ()
    node: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: tuple[str, ...] = ()  # only these (a selection), when given


@dataclass(frozen=True)
class RunPage:
    runs: list[RunRecord]
    total: int  # how many match the filter, on every page
    next_before: str | None  # the cursor of the next (older) page; None on the last


@dataclass(frozen=True)
class Activity:
    """Per hour (the hour's start, oldest first): deliveries by outcome, runs by state."""

    hours: list[datetime]
    deliveries: dict[str, list[int]] = field(default_factory=dict)
    runs: dict[str, list[int]] = field(default_factory=dict)
