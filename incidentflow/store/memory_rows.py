"""The rows of ``InMemoryStore``: what each SQL table holds, as plain mutable records,
and the one ``Tables`` object that holds them all (guarded by one lock in the store).

Kept apart from the store so the store reads as the port's behaviour, not as storage.
Values that the SQL store would serialise (event data, configuration) are copied on
the way in and out (``copied``), so a caller mutating what it passed or got cannot
change what is stored, as with a database.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from incidentflow.canvas import Canvas
from incidentflow.events import Event
from incidentflow.store.records import (
    AttemptRecord,
    DeliveryOutcome,
    ExecutionState,
    IntegrationRecord,
    RunState,
    ScheduleRecord,
    SecretRecord,
    TokenRecord,
)

T = TypeVar("T")


def copied(value: T) -> T:
    """A deep copy: what a round trip through the database gives."""
    return copy.deepcopy(value)


def storable(*values: Any) -> None:
    """Refuse, before anything is written, what a database's JSON column would refuse
    (TypeError naming the type), so a call either stores everything or nothing."""
    for value in values:
        json.dumps(value)


@dataclass
class CanvasVersion:
    canvas: Canvas
    source: str
    digest: str
    warnings: list[dict[str, Any]]


@dataclass
class CanvasRow:
    name: str
    current: int
    created_at: datetime
    updated_at: datetime
    versions: dict[int, CanvasVersion] = field(default_factory=dict)
    paused_at: datetime | None = None


@dataclass
class EndpointRow:
    id: str
    canvas: str
    node: str
    secret_enc: str | None = None
    previous_secret_enc: str | None = None
    previous_valid_until: datetime | None = None
    last_delivery_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class DeliveryRow:
    id: str
    endpoint_id: str
    webhook_id: str | None
    outcome: DeliveryOutcome
    reason: str
    run_id: str | None
    received_at: datetime
    held_events: list[dict[str, Any]] | None = None
    code: str = ""  # a rejection's code


@dataclass
class RunRow:
    id: str
    canvas: str
    canvas_version: int
    trigger_node: str
    root_event_id: str
    state: RunState
    pending: int
    created_at: datetime
    finished_at: datetime | None = None
    replay_of: str | None = None
    replay_batch: str | None = None


@dataclass
class EventRow:
    id: str
    run_id: str
    node: str
    execution_id: str | None
    channel: str
    event: Event


@dataclass
class ExecutionRow:
    id: str
    run_id: str
    node: str
    input_event_id: str
    idempotency_key: str
    concurrency_key: str | None
    created_at: datetime
    state: ExecutionState = "queued"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    resolved_config: dict[str, Any] | None = None
    error: str | None = None
    error_details: dict[str, Any] | None = None
    admitted_at: datetime | None = None
    attempt_started_at: datetime | None = None
    history: list[AttemptRecord] = field(default_factory=list)  # ended attempts


@dataclass
class CreatedRow:
    """A create action's record for the self-trigger guard (``store.guards``)."""

    canvas: str
    kind: str
    run_id: str
    state: str  # "in_flight" or "created"
    started_at: datetime
    object_id: str | None = None


@dataclass
class NodeLimitRow:
    window_start: datetime
    window_count: int = 0
    tripped_at: datetime | None = None


@dataclass
class TokenRow:
    record: TokenRecord
    token_hash: str


@dataclass
class Tables:
    canvases: dict[str, CanvasRow] = field(default_factory=dict)
    endpoints: dict[str, EndpointRow] = field(default_factory=dict)
    deliveries: list[DeliveryRow] = field(default_factory=list)
    runs: dict[str, RunRow] = field(default_factory=dict)
    events: dict[str, EventRow] = field(default_factory=dict)
    executions: dict[str, ExecutionRow] = field(default_factory=dict)
    created: dict[str, CreatedRow] = field(default_factory=dict)  # by execution id
    node_limits: dict[tuple[str, str], NodeLimitRow] = field(default_factory=dict)
    integrations: dict[str, IntegrationRecord] = field(default_factory=dict)
    tokens: dict[str, TokenRow] = field(default_factory=dict)
    secrets: dict[str, tuple[SecretRecord, str]] = field(default_factory=dict)
    schedules: dict[tuple[str, str], ScheduleRecord] = field(default_factory=dict)
    schedule_fires: dict[tuple[str, str, datetime], str | None] = field(default_factory=dict)

    def forget_canvas(self, name: str) -> None:
        """Everything of canvas ``name``, as the database's ON DELETE CASCADE does."""
        gone_endpoints = {e.id for e in self.endpoints.values() if e.canvas == name}
        gone_runs = {r.id for r in self.runs.values() if r.canvas == name}
        self.endpoints = {k: v for k, v in self.endpoints.items() if k not in gone_endpoints}
        self.deliveries = [d for d in self.deliveries if d.endpoint_id not in gone_endpoints]
        self.runs = {k: v for k, v in self.runs.items() if k not in gone_runs}
        self.events = {k: v for k, v in self.events.items() if v.run_id not in gone_runs}
        self.executions = {k: v for k, v in self.executions.items()
                           if v.run_id not in gone_runs}
        self.created = {k: v for k, v in self.created.items() if v.canvas != name}
        self.node_limits = {k: v for k, v in self.node_limits.items() if k[0] != name}
        self.schedules = {k: v for k, v in self.schedules.items() if k[0] != name}
        self.schedule_fires = {k: v for k, v in self.schedule_fires.items() if k[0] != name}
