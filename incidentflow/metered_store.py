"""``MeteredStore``: the store the host and the worker use, counting what they record.

It wraps any ``Store`` and counts the outcomes the store accepted (deliveries;
executions succeeded, retried, failed; queue wait; execution time) in ``metrics``.
Only outcomes the store accepted are counted (``finish`` etc. return False when the
lease was lost, and nothing was written).

Why one class with every port method (over the usual ~20), and a module over 400
lines: it is the port itself, decorated, one short method per port method. Each
method is delegated by name, with no ``__getattr__``, so the type checker sees a
``Store`` and a method added to the port without a line here fails ``mypy``
(``web/app.py`` passes a ``MeteredStore`` where a ``Store`` is expected).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from incidentflow.canvas import Canvas
from incidentflow.events import Event
from incidentflow.metrics import (
    EXECUTION_RESULTS,
    EXECUTION_SECONDS,
    QUEUE_WAIT,
    accepted_reason_class,
    count_delivery,
    id_time,
    reason_class,
)
from incidentflow.rate_limit import RateLimit
from incidentflow.store.async_port import AsyncStore
from incidentflow.store.port import (
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
    LocalWorker,
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
    Store,
    TokenRecord,
    Wait,
    Waiting,
    WorkListener,
)
from incidentflow.store.threaded import ThreadedStore


class MeteredStore:
    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic):
        self._store, self._clock = store, clock
        self._claimed_at: dict[str, float] = {}

    @functools.cached_property
    def aio(self) -> AsyncStore:
        return ThreadedStore(self)

    # -- what is counted ---------------------------------------------------------------
    def accept_delivery(
        self, endpoint_id: str, webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]], now: datetime, reason: str = "",
    ) -> DeliveryResult:
        result = self._store.accept_delivery(endpoint_id, webhook_id, events, now, reason)
        count_delivery(result.outcome, accepted_reason_class(result))
        return result

    def accept_delivery_then(
        self, endpoint_id: str, webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]], now: datetime,
        then: Callable[[DeliveryResult | None, BaseException | None], None],
        reason: str = "",
    ) -> None:
        def counted(result: DeliveryResult | None, error: BaseException | None) -> None:
            if result is not None and error is None:  # in the writer thread, after the commit
                count_delivery(result.outcome, accepted_reason_class(result))
            then(result, error)

        self._store.accept_delivery_then(endpoint_id, webhook_id, events, now, counted,
                                         reason=reason)

    def record_rejection(
        self, endpoint_id: str, reason: str, now: datetime, code: str = "other"
    ) -> None:
        self._store.record_rejection(endpoint_id, reason, now, code)
        count_delivery("rejected", reason_class(code))

    def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        claimed = self._store.claim(worker_id, now, lease_seconds, limit)
        self._claimed(claimed, now)
        return claimed

    def claim_then(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int,
        then: Callable[[list[ClaimedExecution] | None, BaseException | None], None],
    ) -> None:
        def counted(claimed: list[ClaimedExecution] | None, error: BaseException | None) -> None:
            if claimed is not None and error is None:  # in the writer thread, after the commit
                self._claimed(claimed, now)
            then(claimed, error)

        self._store.claim_then(worker_id, now, lease_seconds, limit, counted)

    def _claimed(self, claimed: list[ClaimedExecution], now: datetime) -> None:
        started = self._clock()
        for job in claimed:
            self._claimed_at[job.id] = started
            if job.attempt == 1:
                created = id_time(job.id)
                if created is not None:
                    QUEUE_WAIT.observe(max(0.0, (now - created).total_seconds()))

    def finish(
        self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
        emitted: list[Emitted], now: datetime, origin: ClaimedExecution | None = None,
    ) -> bool:
        recorded = self._store.finish(execution_id, worker_id, resolved_config, emitted, now,
                                      origin)
        return self._outcome("succeeded", execution_id, recorded)

    def finish_then(
        self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
        emitted: list[Emitted], now: datetime, origin: ClaimedExecution | None,
        then: Callable[[bool | None, BaseException | None], None],
    ) -> None:
        def counted(recorded: bool | None, error: BaseException | None) -> None:
            if error is None:  # in the writer thread, after the commit
                self._outcome("succeeded", execution_id, bool(recorded))
            then(recorded, error)

        self._store.finish_then(execution_id, worker_id, resolved_config, emitted, now, origin,
                                counted)

    def retry_later(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, next_attempt_at: datetime, now: datetime,
    ) -> bool:
        recorded = self._store.retry_later(execution_id, worker_id, error, details,
                                           resolved_config, next_attempt_at, now)
        return self._outcome("retried", execution_id, recorded)

    def fail(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> bool:
        recorded = self._store.fail(execution_id, worker_id, error, details, resolved_config,
                                    now)
        return self._outcome("failed", execution_id, recorded)

    def take_create_slot(
        self, execution_id: str, worker_id: str, canvas: str, node: str, limit: RateLimit,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> Admission:
        admission = self._store.take_create_slot(execution_id, worker_id, canvas, node, limit,
                                                 resolved_config, now)
        if not admission.admitted:  # held (or its lease lost): no outcome follows here
            self._claimed_at.pop(execution_id, None)
        return admission

    def _outcome(self, result: str, execution_id: str, recorded: bool) -> bool:
        started = self._claimed_at.pop(execution_id, None)
        if recorded:
            EXECUTION_RESULTS[result].inc()
            if started is not None:
                EXECUTION_SECONDS.observe(self._clock() - started)
        return recorded

    # -- everything else, delegated as it is -------------------------------------------
    def migrate(self) -> None:
        self._store.migrate()

    def ping(self) -> None:
        self._store.ping()

    def close(self) -> None:
        self._store.close()

    def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime,
    ) -> SavedCanvas:
        return self._store.save_canvas(canvas, source, warnings, now)

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        return self._store.get_canvas(name, version)

    def list_canvases(self) -> list[CanvasSummary]:
        return self._store.list_canvases()

    def delete_canvas(self, name: str) -> None:
        self._store.delete_canvas(name)

    def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint:
        return self._store.get_endpoint(endpoint_id, now)

    def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint:
        return self._store.endpoint_for_node(canvas, node, now)

    def set_endpoint_secret(
        self, canvas: str, node: str, secret_encrypted: str | None, now: datetime,
    ) -> Endpoint:
        return self._store.set_endpoint_secret(canvas, node, secret_encrypted, now)

    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        return self._store.recent_deliveries(endpoint_id, limit)

    def pause_canvas(self, name: str, now: datetime) -> datetime:
        return self._store.pause_canvas(name, now)

    def resume_canvas(
        self, name: str, plan: Callable[[str, Event], list[NewExecution]] | None, now: datetime,
    ) -> Resumed:
        return self._store.resume_canvas(name, plan, now)

    def held_deliveries(self, name: str) -> int:
        return self._store.held_deliveries(name)

    def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime,
    ) -> None:
        self._store.begin_create(canvas, kind, execution_id, run_id, now)

    def forget_create(self, execution_id: str) -> None:
        self._store.forget_create(execution_id)

    def self_created(
        self, canvas: str, kinds: frozenset[str], object_id: str, live_since: datetime,
    ) -> SelfCreated:
        return self._store.self_created(canvas, kinds, object_id, live_since)

    def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime,
    ) -> str:
        return self._store.start_run(canvas, node, event, first, now)

    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        return self._store.list_runs(canvas, limit)

    def get_run(self, run_id: str) -> RunRecord:
        return self._store.get_run(run_id)

    def release(self, worker_id: str, now: datetime) -> int:
        return self._store.release(worker_id, now)

    def node_events(self, run_id: str) -> dict[str, Event]:
        return self._store.node_events(run_id)

    def queue_depth(self, now: datetime) -> int:
        return self._store.queue_depth(now)

    def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float,
    ) -> int:
        return self._store.extend_leases(worker_id, execution_ids, now, lease_seconds)

    def attach_worker(self, worker: LocalWorker) -> None:
        self._store.attach_worker(worker)

    def detach_worker(self, worker: LocalWorker) -> None:
        self._store.detach_worker(worker)

    def listen_for_work(
        self, on_notify: Callable[[], None], on_due: Callable[[datetime], None] | None = None,
    ) -> WorkListener | None:
        return self._store.listen_for_work(on_notify, on_due)

    def wake_on_work(self, callback: Callable[[], None] | None) -> None:
        self._store.wake_on_work(callback)

    def active_schedules(self) -> list[ScheduleRecord]:
        return self._store.active_schedules()

    def canvas_schedules(self, canvas: str) -> list[ScheduleRecord]:
        return self._store.canvas_schedules(canvas)

    def fire_schedule(
        self, canvas: str, node: str, due: datetime, event: Event, first: list[NewExecution],
        now: datetime,
    ) -> str | None:
        return self._store.fire_schedule(canvas, node, due, event, first, now)

    def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool:
        return self._store.skip_schedule(canvas, node, due, now)

    def next_due(self, now: datetime) -> datetime | None:
        return self._store.next_due(now)

    def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        return self._store.node_limits(canvas)

    def resume_node(self, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
        return self._store.resume_node(canvas, node, release, now)

    def put_integration(
        self, name: str, type_: str, config: dict[str, Any], secrets_encrypted: dict[str, str],
        status: str, reason: str, now: datetime,
    ) -> IntegrationRecord:
        return self._store.put_integration(
            name, type_, config, secrets_encrypted, status, reason, now)

    def get_integration(self, name: str) -> IntegrationRecord:
        return self._store.get_integration(name)

    def list_integrations(self) -> list[IntegrationRecord]:
        return self._store.list_integrations()

    def delete_integration(self, name: str) -> None:
        self._store.delete_integration(name)

    def create_token(
        self, name: str, token_hash: str, now: datetime, kind: str = "api",
    ) -> TokenRecord:
        return self._store.create_token(name, token_hash, now, kind)

    def list_tokens(self) -> list[TokenRecord]:
        return self._store.list_tokens()

    def get_token(self, token_id: str) -> TokenRecord:
        return self._store.get_token(token_id)

    def revoke_token(self, token_id: str, now: datetime) -> TokenRecord:
        return self._store.revoke_token(token_id, now)

    def active_token(self, token_hash: str) -> TokenRecord | None:
        return self._store.active_token(token_hash)

    def touch_token(self, token_id: str, now: datetime) -> None:
        self._store.touch_token(token_id, now)

    def put_secret(self, name: str, value_encrypted: str, now: datetime) -> SecretRecord:
        return self._store.put_secret(name, value_encrypted, now)

    def list_secrets(self) -> list[SecretRecord]:
        return self._store.list_secrets()

    def delete_secret(self, name: str) -> None:
        self._store.delete_secret(name)

    def secrets_encrypted(self) -> dict[str, str]:
        return self._store.secrets_encrypted()

    def prune_batch(
        self, runs_before: datetime, deliveries_before: datetime, limit: int,
        sessions_before: datetime | None = None,
    ) -> Pruned:
        return self._store.prune_batch(runs_before, deliveries_before, limit, sessions_before)

    def replace_root_event(self, run_id: str, event: Event) -> bool:
        return self._store.replace_root_event(run_id, event)

    # -- runs at scale and their recovery ------------------------------------------------
    def find_runs(self, where: RunFilter, limit: int, before: str | None = None) -> RunPage:
        return self._store.find_runs(where, limit, before)

    def run_ids(self, where: RunFilter, limit: int) -> tuple[list[str], int]:
        return self._store.run_ids(where, limit)

    def canvas_activity(self, canvas: str, since: datetime, now: datetime) -> Activity:
        return self._store.canvas_activity(canvas, since, now)

    def start_replays(
        self, replays: list[tuple[RunRecord, list[NewExecution]]], batch: str | None,
        now: datetime,
    ) -> list[str]:
        return self._store.start_replays(replays, batch, now)

    def retry_execution(self, run_id: str, execution_id: str, now: datetime) -> RunRecord:
        return self._store.retry_execution(run_id, execution_id, now)

    def replay_batch(self, batch: str) -> list[RunRecord]:
        return self._store.replay_batch(batch)

    # -- On Incident's catch-up poll -----------------------------------------------------
    def catch_up_state(self, canvas: str, node: str) -> CatchUpState | None:
        return self._store.catch_up_state(canvas, node)

    def note_catch_up_poll(self, canvas: str, node: str, since: datetime, polled_at: datetime,
                           found: int, error: str | None) -> None:
        self._store.note_catch_up_poll(canvas, node, since, polled_at, found, error)

    def claim_incident_change(self, canvas: str, node: str, incident_id: str,
                              updated_at: str, webhook_id: str, now: datetime) -> bool:
        return self._store.claim_incident_change(canvas, node, incident_id, updated_at,
                                                 webhook_id, now)

    def start_caught_up_run(self, canvas: str, node: str, incident_id: str, updated_at: str,
                            event: Event, first: list[NewExecution], now: datetime,
                            ) -> str | None:
        return self._store.start_caught_up_run(canvas, node, incident_id, updated_at, event,
                                               first, now)

    # -- waiting steps, cancelling runs, waitForEvent ------------------------------------
    def begin_wait(
        self, execution_id: str, worker_id: str, waiting: Waiting,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> bool:
        return self._store.begin_wait(execution_id, worker_id, waiting, resolved_config, now)

    def take_wait(self, execution_id: str, now: datetime) -> Wait | None:
        return self._store.take_wait(execution_id, now)

    def settle_wait(self, execution_id: str, outcome: dict[str, Any], now: datetime) -> bool:
        return self._store.settle_wait(execution_id, outcome, now)

    def run_waits(self, run_id: str) -> list[Wait]:
        return self._store.run_waits(run_id)

    def open_waits(self, kind: str | None = None, limit: int = 200,
                   canvas: str | None = None, key: str | None = None) -> list[Wait]:
        return self._store.open_waits(kind, limit, canvas, key)

    def cancel_run(self, run_id: str, who: str, now: datetime) -> None:
        self._store.cancel_run(run_id, who, now)

    def waiting_counts(self, now: datetime) -> dict[str, int]:
        return self._store.waiting_counts(now)

    def event_wait(
        self, execution_id: str, offers: int = 0
    ) -> tuple[EventWait | None, list[EventOffer]]:
        return self._store.event_wait(execution_id, offers)

    def event_offers(self, execution_id: str, limit: int) -> list[EventOffer]:
        return self._store.event_offers(execution_id, limit)

    def park_for_event(
        self, wait: EventWait, worker_id: str, seen: list[str],
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> datetime | None:
        return self._store.park_for_event(wait, worker_id, seen, resolved_config, now)

    def end_event_wait(self, execution_id: str) -> None:
        self._store.end_event_wait(execution_id)

    def event_waits_of_run(self, run_id: str) -> list[EventWait]:
        return self._store.event_waits_of_run(run_id)
