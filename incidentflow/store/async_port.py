"""The async face of the storage port: what async callers (the receiver, the engine,
the web layer and the services behind it) use of storage. Each method has the name,
parameters and promise of its namesake on ``store.port.Store`` (read its docstring
there), as ``async def``; how the call reaches the database (a worker thread, the
SQL writer thread and its batches, or nothing at all in memory) is the adapter's
business. Split by room, each protocol a handful of operations; ``AsyncStore`` is all
of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from incidentflow.canvas import Canvas
from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store.records import (
    Activity,
    Admission,
    CanvasRecord,
    CanvasSummary,
    CatchUpState,
    ClaimedExecution,
    DeliveryRecord,
    DeliveryResult,
    Emitted,
    Endpoint,
    EventOffer,
    EventWait,
    IntegrationRecord,
    NewExecution,
    NodeLimitState,
    NodeResumed,
    Pruned,
    Resumed,
    RunFilter,
    RunPage,
    RunRecord,
    SavedCanvas,
    ScheduleRecord,
    SecretRecord,
    SelfCreated,
    TokenRecord,
)
from incidentflow.wait_records import Wait, Waiting


class AsyncCanvasesAndDeliveries(Protocol):
    """Schema / canvases / webhook endpoints / deliveries and runs / pause and resume (a
    runaway canvas is stopped without losing deliveries)."""

    async def ping(self) -> None: ...
    async def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime
    ) -> SavedCanvas: ...
    async def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord: ...
    async def list_canvases(self) -> list[CanvasSummary]: ...
    async def delete_canvas(self, name: str) -> None: ...
    async def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint: ...
    async def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint: ...
    async def set_endpoint_secret(
        self, canvas: str, node: str, secret_encrypted: str | None, now: datetime
    ) -> Endpoint: ...
    async def accept_delivery(
        self,
        endpoint_id: str,
        webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]],
        now: datetime,
        reason: str = "",
    ) -> DeliveryResult: ...
    async def record_rejection(
        self, endpoint_id: str, reason: str, now: datetime, code: str = "other"
    ) -> None: ...
    async def recent_deliveries(
        self, endpoint_id: str, limit: int = 20
    ) -> list[DeliveryRecord]: ...
    async def pause_canvas(self, name: str, now: datetime) -> datetime: ...
    async def resume_canvas(
        self,
        name: str,
        plan: Callable[[str, Event], list[NewExecution]] | None,
        now: datetime,
    ) -> Resumed: ...
    async def held_deliveries(self, name: str) -> int: ...


class AsyncRuns(Protocol):
    """Self-trigger guard (store.guards) / runs at scale and their recovery
    (store.run_list, store.recovery)."""

    async def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime
    ) -> None: ...
    async def forget_create(self, execution_id: str) -> None: ...
    async def self_created(
        self, canvas: str, kinds: frozenset[str], object_id: str, live_since: datetime
    ) -> SelfCreated: ...
    async def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime
    ) -> str: ...
    async def replace_root_event(self, run_id: str, event: Event) -> bool: ...
    async def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]: ...
    async def get_run(self, run_id: str) -> RunRecord: ...
    async def find_runs(
        self, where: RunFilter, limit: int, before: str | None = None
    ) -> RunPage: ...
    async def run_ids(self, where: RunFilter, limit: int) -> tuple[list[str], int]: ...
    async def canvas_activity(self, canvas: str, since: datetime, now: datetime) -> Activity: ...
    async def start_replays(
        self,
        replays: list[tuple[RunRecord, list[NewExecution]]],
        batch: str | None,
        now: datetime,
    ) -> list[str]: ...
    async def retry_execution(self, run_id: str, execution_id: str, now: datetime) -> RunRecord: ...
    async def replay_batch(self, batch: str) -> list[RunRecord]: ...


class AsyncExecutions(Protocol):
    """Executions (the engine) / On Incident's catch-up poll (store.catch_up) / what
    only workers use / schedule triggers (store.schedules)."""

    async def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]: ...
    async def finish(
        self,
        execution_id: str,
        worker_id: str,
        resolved_config: dict[str, Any] | None,
        emitted: list[Emitted],
        now: datetime,
        origin: ClaimedExecution | None = None,
    ) -> bool: ...
    async def retry_later(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        next_attempt_at: datetime,
        now: datetime,
    ) -> bool: ...
    async def fail(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> bool: ...
    async def release(self, worker_id: str, now: datetime) -> int: ...
    async def node_events(self, run_id: str) -> dict[str, Event]: ...
    async def queue_depth(self, now: datetime) -> int: ...
    async def catch_up_state(self, canvas: str, node: str) -> CatchUpState | None: ...
    async def note_catch_up_poll(
        self,
        canvas: str,
        node: str,
        since: datetime,
        polled_at: datetime,
        found: int,
        error: str | None,
    ) -> None: ...
    async def claim_incident_change(
        self,
        canvas: str,
        node: str,
        incident_id: str,
        updated_at: str,
        webhook_id: str,
        now: datetime,
    ) -> bool: ...
    async def start_caught_up_run(
        self,
        canvas: str,
        node: str,
        incident_id: str,
        updated_at: str,
        event: Event,
        first: list[NewExecution],
        now: datetime,
    ) -> str | None: ...
    async def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float
    ) -> int: ...
    async def active_schedules(self) -> list[ScheduleRecord]: ...
    async def canvas_schedules(self, canvas: str) -> list[ScheduleRecord]: ...
    async def fire_schedule(
        self,
        canvas: str,
        node: str,
        due: datetime,
        event: Event,
        first: list[NewExecution],
        now: datetime,
    ) -> str | None: ...
    async def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool: ...
    async def next_due(self, now: datetime) -> datetime | None: ...


class AsyncWaits(Protocol):
    """Waiting steps and cancelling runs (store.waits) / waitForEvent
    (store.event_waits) / the create rate limit (store.node_limits)."""

    async def begin_wait(
        self,
        execution_id: str,
        worker_id: str,
        waiting: Waiting,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> bool: ...
    async def take_wait(self, execution_id: str, now: datetime) -> Wait | None: ...
    async def settle_wait(
        self, execution_id: str, outcome: dict[str, Any], now: datetime
    ) -> bool: ...
    async def run_waits(self, run_id: str) -> list[Wait]: ...
    async def open_waits(
        self,
        kind: str | None = None,
        limit: int = 200,
        canvas: str | None = None,
        key: str | None = None,
    ) -> list[Wait]: ...
    async def cancel_run(self, run_id: str, who: str, now: datetime) -> None: ...
    async def waiting_counts(self, now: datetime) -> dict[str, int]: ...
    async def event_wait(
        self, execution_id: str, offers: int = 0
    ) -> tuple[EventWait | None, list[EventOffer]]: ...
    async def event_offers(self, execution_id: str, limit: int) -> list[EventOffer]: ...
    async def park_for_event(
        self,
        wait: EventWait,
        worker_id: str,
        seen: list[str],
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> datetime | None: ...
    async def end_event_wait(self, execution_id: str) -> None: ...
    async def event_waits_of_run(self, run_id: str) -> list[EventWait]: ...
    async def take_create_slot(
        self,
        execution_id: str,
        worker_id: str,
        canvas: str,
        node: str,
        limit: RateLimit,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> Admission: ...
    async def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]: ...
    async def resume_node(
        self, canvas: str, node: str, release: bool, now: datetime
    ) -> NodeResumed: ...


class AsyncAdmin(Protocol):
    """Integrations / API tokens (stored hashed) / secrets for canvases (stored
    encrypted; values never listed) / retention."""

    async def put_integration(
        self,
        name: str,
        type_: str,
        config: dict[str, Any],
        secrets_encrypted: dict[str, str],
        status: str,
        reason: str,
        now: datetime,
    ) -> IntegrationRecord: ...
    async def get_integration(self, name: str) -> IntegrationRecord: ...
    async def list_integrations(self) -> list[IntegrationRecord]: ...
    async def delete_integration(self, name: str) -> None: ...
    async def create_token(
        self, name: str, token_hash: str, now: datetime, kind: str = "api"
    ) -> TokenRecord: ...
    async def list_tokens(self) -> list[TokenRecord]: ...
    async def get_token(self, token_id: str) -> TokenRecord: ...
    async def revoke_token(self, token_id: str, now: datetime) -> TokenRecord: ...
    async def active_token(self, token_hash: str) -> TokenRecord | None: ...
    async def touch_token(self, token_id: str, now: datetime) -> None: ...
    async def put_secret(self, name: str, value_encrypted: str, now: datetime) -> SecretRecord: ...
    async def list_secrets(self) -> list[SecretRecord]: ...
    async def delete_secret(self, name: str) -> None: ...
    async def secrets_encrypted(self) -> dict[str, str]: ...
    async def prune_batch(
        self,
        runs_before: datetime,
        deliveries_before: datetime,
        limit: int,
        sessions_before: datetime | None = None,
    ) -> Pruned: ...


class AsyncStore(
    AsyncCanvasesAndDeliveries, AsyncRuns, AsyncExecutions, AsyncWaits, AsyncAdmin, Protocol
):
    """The whole async port."""
