"""``ThreadedStore``: the async port over a synchronous ``Store``, each call run in a
worker thread (``anyio.to_thread``) so the event loop keeps serving while the database
works. Split by room like the port; ``ThreadedStore`` is all of them.

How a call is made is ``_call``'s business alone (``store.inline`` makes it in the
caller's thread); the hot calls report their outcomes to ``meter``
(``store.outcome_meter``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread

from incidentflow.canvas import Canvas
from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store.outcome_meter import UNMETERED, OutcomeMeter
from incidentflow.store.port import Store
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

T = TypeVar("T")


class _Threaded:
    def __init__(self, store: Store):
        self.sync = store
        self.meter: OutcomeMeter = UNMETERED

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))


class ThreadedCanvasesAndDeliveries(_Threaded):
    """Schema / canvases / webhook endpoints / deliveries and runs / pause and resume (a
    runaway canvas is stopped without losing deliveries)."""

    async def ping(self) -> None:
        return await self._call(self.sync.ping)

    async def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime
    ) -> SavedCanvas:
        return await self._call(self.sync.save_canvas, canvas, source, warnings, now)

    async def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        return await self._call(self.sync.get_canvas, name, version)

    async def list_canvases(self) -> list[CanvasSummary]:
        return await self._call(self.sync.list_canvases)

    async def delete_canvas(self, name: str) -> None:
        return await self._call(self.sync.delete_canvas, name)

    async def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint:
        return await self._call(self.sync.get_endpoint, endpoint_id, now)

    async def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint:
        return await self._call(self.sync.endpoint_for_node, canvas, node, now)

    async def set_endpoint_secret(
        self, canvas: str, node: str, secret_encrypted: str | None, now: datetime
    ) -> Endpoint:
        return await self._call(self.sync.set_endpoint_secret, canvas, node, secret_encrypted, now)

    async def accept_delivery(
        self,
        endpoint_id: str,
        webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]],
        now: datetime,
        reason: str = "",
    ) -> DeliveryResult:
        result = await self._call(
            self.sync.accept_delivery, endpoint_id, webhook_id, events, now, reason
        )
        self.meter.delivered(result)
        return result

    async def record_rejection(
        self, endpoint_id: str, reason: str, now: datetime, code: str = "other"
    ) -> None:
        await self._call(self.sync.record_rejection, endpoint_id, reason, now, code)
        self.meter.rejected(code)

    async def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        return await self._call(self.sync.recent_deliveries, endpoint_id, limit)

    async def pause_canvas(self, name: str, now: datetime) -> datetime:
        return await self._call(self.sync.pause_canvas, name, now)

    async def resume_canvas(
        self,
        name: str,
        plan: Callable[[str, Event], list[NewExecution]] | None,
        now: datetime,
    ) -> Resumed:
        return await self._call(self.sync.resume_canvas, name, plan, now)

    async def held_deliveries(self, name: str) -> int:
        return await self._call(self.sync.held_deliveries, name)


class ThreadedRuns(_Threaded):
    """Self-trigger guard (store.guards) / runs at scale and their recovery
    (store.run_list, store.recovery)."""

    async def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime
    ) -> None:
        return await self._call(self.sync.begin_create, canvas, kind, execution_id, run_id, now)

    async def forget_create(self, execution_id: str) -> None:
        return await self._call(self.sync.forget_create, execution_id)

    async def self_created(
        self, canvas: str, kinds: frozenset[str], object_id: str, live_since: datetime
    ) -> SelfCreated:
        return await self._call(self.sync.self_created, canvas, kinds, object_id, live_since)

    async def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime
    ) -> str:
        return await self._call(self.sync.start_run, canvas, node, event, first, now)

    async def replace_root_event(self, run_id: str, event: Event) -> bool:
        return await self._call(self.sync.replace_root_event, run_id, event)

    async def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        return await self._call(self.sync.list_runs, canvas, limit)

    async def get_run(self, run_id: str) -> RunRecord:
        return await self._call(self.sync.get_run, run_id)

    async def find_runs(self, where: RunFilter, limit: int, before: str | None = None) -> RunPage:
        return await self._call(self.sync.find_runs, where, limit, before)

    async def run_ids(self, where: RunFilter, limit: int) -> tuple[list[str], int]:
        return await self._call(self.sync.run_ids, where, limit)

    async def canvas_activity(self, canvas: str, since: datetime, now: datetime) -> Activity:
        return await self._call(self.sync.canvas_activity, canvas, since, now)

    async def start_replays(
        self,
        replays: list[tuple[RunRecord, list[NewExecution]]],
        batch: str | None,
        now: datetime,
    ) -> list[str]:
        return await self._call(self.sync.start_replays, replays, batch, now)

    async def retry_execution(self, run_id: str, execution_id: str, now: datetime) -> RunRecord:
        return await self._call(self.sync.retry_execution, run_id, execution_id, now)

    async def replay_batch(self, batch: str) -> list[RunRecord]:
        return await self._call(self.sync.replay_batch, batch)


class ThreadedExecutions(_Threaded):
    """Executions (the engine) / On Incident's catch-up poll (store.catch_up) / what
    only workers use / schedule triggers (store.schedules)."""

    async def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        claimed = await self._call(self.sync.claim, worker_id, now, lease_seconds, limit)
        self.meter.claimed(claimed, now)
        return claimed

    async def finish(
        self,
        execution_id: str,
        worker_id: str,
        resolved_config: dict[str, Any] | None,
        emitted: list[Emitted],
        now: datetime,
        origin: ClaimedExecution | None = None,
    ) -> bool:
        recorded = await self._call(
            self.sync.finish, execution_id, worker_id, resolved_config, emitted, now, origin
        )
        self.meter.ended("succeeded", execution_id, recorded)
        return recorded

    async def retry_later(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        next_attempt_at: datetime,
        now: datetime,
    ) -> bool:
        recorded = await self._call(
            self.sync.retry_later,
            execution_id,
            worker_id,
            error,
            details,
            resolved_config,
            next_attempt_at,
            now,
        )
        self.meter.ended("retried", execution_id, recorded)
        return recorded

    async def fail(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> bool:
        recorded = await self._call(
            self.sync.fail, execution_id, worker_id, error, details, resolved_config, now
        )
        self.meter.ended("failed", execution_id, recorded)
        return recorded

    async def release(self, worker_id: str, now: datetime) -> int:
        return await self._call(self.sync.release, worker_id, now)

    async def node_events(self, run_id: str) -> dict[str, Event]:
        return await self._call(self.sync.node_events, run_id)

    async def queue_depth(self, now: datetime) -> int:
        return await self._call(self.sync.queue_depth, now)

    async def catch_up_state(self, canvas: str, node: str) -> CatchUpState | None:
        return await self._call(self.sync.catch_up_state, canvas, node)

    async def note_catch_up_poll(
        self,
        canvas: str,
        node: str,
        since: datetime,
        polled_at: datetime,
        found: int,
        error: str | None,
    ) -> None:
        return await self._call(
            self.sync.note_catch_up_poll, canvas, node, since, polled_at, found, error
        )

    async def claim_incident_change(
        self,
        canvas: str,
        node: str,
        incident_id: str,
        updated_at: str,
        webhook_id: str,
        now: datetime,
    ) -> bool:
        return await self._call(
            self.sync.claim_incident_change, canvas, node, incident_id, updated_at, webhook_id, now
        )

    async def start_caught_up_run(
        self,
        canvas: str,
        node: str,
        incident_id: str,
        updated_at: str,
        event: Event,
        first: list[NewExecution],
        now: datetime,
    ) -> str | None:
        return await self._call(
            self.sync.start_caught_up_run, canvas, node, incident_id, updated_at, event, first, now
        )

    async def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float
    ) -> int:
        return await self._call(
            self.sync.extend_leases, worker_id, execution_ids, now, lease_seconds
        )

    async def active_schedules(self) -> list[ScheduleRecord]:
        return await self._call(self.sync.active_schedules)

    async def canvas_schedules(self, canvas: str) -> list[ScheduleRecord]:
        return await self._call(self.sync.canvas_schedules, canvas)

    async def fire_schedule(
        self,
        canvas: str,
        node: str,
        due: datetime,
        event: Event,
        first: list[NewExecution],
        now: datetime,
    ) -> str | None:
        return await self._call(self.sync.fire_schedule, canvas, node, due, event, first, now)

    async def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool:
        return await self._call(self.sync.skip_schedule, canvas, node, due, now)

    async def next_due(self, now: datetime) -> datetime | None:
        return await self._call(self.sync.next_due, now)


class ThreadedWaits(_Threaded):
    """Waiting steps and cancelling runs (store.waits) / waitForEvent
    (store.event_waits) / the create rate limit (store.node_limits)."""

    async def begin_wait(
        self,
        execution_id: str,
        worker_id: str,
        waiting: Waiting,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> bool:
        return await self._call(
            self.sync.begin_wait, execution_id, worker_id, waiting, resolved_config, now
        )

    async def take_wait(self, execution_id: str, now: datetime) -> Wait | None:
        return await self._call(self.sync.take_wait, execution_id, now)

    async def settle_wait(self, execution_id: str, outcome: dict[str, Any], now: datetime) -> bool:
        return await self._call(self.sync.settle_wait, execution_id, outcome, now)

    async def run_waits(self, run_id: str) -> list[Wait]:
        return await self._call(self.sync.run_waits, run_id)

    async def open_waits(
        self,
        kind: str | None = None,
        limit: int = 200,
        canvas: str | None = None,
        key: str | None = None,
    ) -> list[Wait]:
        return await self._call(self.sync.open_waits, kind, limit, canvas, key)

    async def cancel_run(self, run_id: str, who: str, now: datetime) -> None:
        return await self._call(self.sync.cancel_run, run_id, who, now)

    async def waiting_counts(self, now: datetime) -> dict[str, int]:
        return await self._call(self.sync.waiting_counts, now)

    async def event_wait(
        self, execution_id: str, offers: int = 0
    ) -> tuple[EventWait | None, list[EventOffer]]:
        return await self._call(self.sync.event_wait, execution_id, offers)

    async def event_offers(self, execution_id: str, limit: int) -> list[EventOffer]:
        return await self._call(self.sync.event_offers, execution_id, limit)

    async def park_for_event(
        self,
        wait: EventWait,
        worker_id: str,
        seen: list[str],
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> datetime | None:
        return await self._call(
            self.sync.park_for_event, wait, worker_id, seen, resolved_config, now
        )

    async def end_event_wait(self, execution_id: str) -> None:
        return await self._call(self.sync.end_event_wait, execution_id)

    async def event_waits_of_run(self, run_id: str) -> list[EventWait]:
        return await self._call(self.sync.event_waits_of_run, run_id)

    async def take_create_slot(
        self,
        execution_id: str,
        worker_id: str,
        canvas: str,
        node: str,
        limit: RateLimit,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> Admission:
        admission = await self._call(
            self.sync.take_create_slot,
            execution_id,
            worker_id,
            canvas,
            node,
            limit,
            resolved_config,
            now,
        )
        self.meter.admitted(execution_id, admission)
        return admission

    async def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        return await self._call(self.sync.node_limits, canvas)

    async def resume_node(
        self, canvas: str, node: str, release: bool, now: datetime
    ) -> NodeResumed:
        return await self._call(self.sync.resume_node, canvas, node, release, now)


class ThreadedAdmin(_Threaded):
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
    ) -> IntegrationRecord:
        return await self._call(
            self.sync.put_integration, name, type_, config, secrets_encrypted, status, reason, now
        )

    async def get_integration(self, name: str) -> IntegrationRecord:
        return await self._call(self.sync.get_integration, name)

    async def list_integrations(self) -> list[IntegrationRecord]:
        return await self._call(self.sync.list_integrations)

    async def delete_integration(self, name: str) -> None:
        return await self._call(self.sync.delete_integration, name)

    async def create_token(
        self, name: str, token_hash: str, now: datetime, kind: str = "api"
    ) -> TokenRecord:
        return await self._call(self.sync.create_token, name, token_hash, now, kind)

    async def list_tokens(self) -> list[TokenRecord]:
        return await self._call(self.sync.list_tokens)

    async def get_token(self, token_id: str) -> TokenRecord:
        return await self._call(self.sync.get_token, token_id)

    async def revoke_token(self, token_id: str, now: datetime) -> TokenRecord:
        return await self._call(self.sync.revoke_token, token_id, now)

    async def active_token(self, token_hash: str) -> TokenRecord | None:
        return await self._call(self.sync.active_token, token_hash)

    async def touch_token(self, token_id: str, now: datetime) -> None:
        return await self._call(self.sync.touch_token, token_id, now)

    async def put_secret(self, name: str, value_encrypted: str, now: datetime) -> SecretRecord:
        return await self._call(self.sync.put_secret, name, value_encrypted, now)

    async def list_secrets(self) -> list[SecretRecord]:
        return await self._call(self.sync.list_secrets)

    async def delete_secret(self, name: str) -> None:
        return await self._call(self.sync.delete_secret, name)

    async def secrets_encrypted(self) -> dict[str, str]:
        return await self._call(self.sync.secrets_encrypted)

    async def prune_batch(
        self,
        runs_before: datetime,
        deliveries_before: datetime,
        limit: int,
        sessions_before: datetime | None = None,
    ) -> Pruned:
        return await self._call(
            self.sync.prune_batch, runs_before, deliveries_before, limit, sessions_before
        )


class ThreadedStore(
    ThreadedCanvasesAndDeliveries,
    ThreadedRuns,
    ThreadedExecutions,
    ThreadedWaits,
    ThreadedAdmin,
):
    """The whole async port over a synchronous store."""
