"""The storage port: every operation the host, the receiver, the web layer, the CLI and
the engine need of storage, as one Protocol (``Store``), with its record types
(``store.records``, re-exported here).

Nothing above the store imports a store implementation or SQLAlchemy
(tests/core/test_layers.py): they see ``Store``, the records, and
``errors.StoreUnavailable``, which every implementation raises when the database
cannot be reached (the engine then lets a lease expire instead of failing the
execution). ``incidentflow.store.open_store`` builds the SQL implementation and
``incidentflow.testing.InMemoryStore`` is its in-memory twin.

The port is split by room (``CanvasesAndDeliveries``, ``Runs``, ``Executions``,
``Waits``, ``Admin``), like its async face (``store.async_port``), plus what only the
worker and its host use (``WorkerPlumbing``); ``Store`` is their union. Its methods
are synchronous, for callers that may block (the CLI, scripts, tests); async callers
use ``store.aio``, whose operations have the same names, parameters and promises, and
reach the database as the adapter sees fit (the SQL one answers the hot path from its
group-commit writer on the event loop, without a thread per call).

The module is over 400 lines because it is one object, the whole port, with
each method's promise written where it is declared.

Transaction rules (docs/design-rules.md, "No transaction around outside calls"):
- ``accept_delivery`` / ``start_run``: delivery row + trigger event + run + first
  executions commit together, or not at all.
- ``claim``: leases executions and commits before the component runs.
- ``finish``: outcome + emitted events + downstream executions commit together, and
  only if the caller still holds the lease.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from incidentflow.canvas import Canvas
from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store.async_port import AsyncStore
from incidentflow.store.codec import new_id  # time-ordered ids, for callers too
from incidentflow.store.outcome_meter import Ended, OutcomeMeter
from incidentflow.store.records import (
    Activity,
    Admission,
    AttemptRecord,
    CanvasRecord,
    CanvasSummary,
    CatchUpState,
    ClaimedExecution,
    DeliveryOutcome,
    DeliveryRecord,
    DeliveryResult,
    Emitted,
    Endpoint,
    EventOffer,
    EventWait,
    ExecutionRecord,
    ExecutionState,
    IntegrationRecord,
    NewExecution,
    NodeLimitState,
    NodeResumed,
    Pruned,
    Resumed,
    RunFilter,
    RunPage,
    RunRecord,
    RunState,
    SavedCanvas,
    ScheduleRecord,
    SecretRecord,
    SelfCreated,
    TokenRecord,
)
from incidentflow.wait_records import Wait, Waiting

__all__ = [
    "Activity", "AttemptRecord", "CatchUpState", "EventOffer", "EventWait", "RunFilter",
    "RunPage", "Wait", "Waiting", "new_id",
    "Admission", "Admin", "CanvasRecord", "CanvasesAndDeliveries", "Ended", "Executions",
    "OutcomeMeter", "Runs", "Waits", "WorkerPlumbing", "CanvasSummary", "ClaimedExecution",
    "DeliveryOutcome",
    "DeliveryRecord", "DeliveryResult", "Emitted", "Endpoint", "ExecutionRecord",
    "ExecutionState", "IntegrationRecord", "LocalWorker", "NewExecution", "NodeLimitState",
    "NodeResumed", "Pruned", "Resumed", "RunRecord", "RunState", "SavedCanvas",
    "ScheduleRecord", "SecretRecord", "SelfCreated", "Store", "TokenRecord", "WorkListener",
]


class LocalWorker(Protocol):
    """What a worker offers to take handed-over executions (``engine.worker``): a store
    may lease new executions to it in the transaction that enqueues them."""

    id: str

    @property
    def lease_seconds(self) -> float: ...

    def reserve(self, wanted: int) -> int:
        """Take up to ``wanted`` free slots (thread-safe); returns how many."""
        ...

    def unreserve(self, count: int) -> None:
        """Give back slots reserved for executions that were not committed."""
        ...

    def hand_over(self, jobs: list[ClaimedExecution]) -> None:
        """Start these committed, leased executions: called on the event loop the
        worker was attached from (in the committing thread when none ran there)."""
        ...


class WorkListener(Protocol):
    """A running listener for work committed by other processes (``listen_for_work``)."""

    def stop(self) -> None: ...


class CanvasesAndDeliveries(Protocol):
    """Canvases, webhook endpoints, deliveries, pause and resume."""

    def ping(self) -> None: ...

    # -- canvases --------------------------------------------------------------
    def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime
    ) -> SavedCanvas:
        """New version unless the content hash equals the current one. Creates an
        endpoint for each webhook-trigger node that has none; keeps existing ones
        (URL and secret survive edits); removes endpoints of deleted nodes."""
        ...

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord: ...
    def list_canvases(self) -> list[CanvasSummary]: ...
    def delete_canvas(self, name: str) -> None: ...

    # -- webhook endpoints -----------------------------------------------------
    def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint: ...
    def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint: ...
    def set_endpoint_secret(
        self, canvas: str, node: str, secret_encrypted: str | None, now: datetime
    ) -> Endpoint:
        """Set (or clear with None) the signing secret. The previous secret stays
        valid for 24 hours after a change (docs/design-rules.md, "Secret rotation
        grace"); clearing drops both."""
        ...

    # -- deliveries and runs ---------------------------------------------------
    def accept_delivery(
        self,
        endpoint_id: str,
        webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]],
        now: datetime,
        reason: str = "",
    ) -> DeliveryResult:
        """One transaction: delivery row (unique per endpoint + webhook_id), one run per
        event with its first executions. A repeated webhook_id: outcome "duplicate",
        nothing new. No events: outcome "ignored" with ``reason`` (still recorded, still
        deduped). The endpoint's canvas is paused: outcome "paused", the events are
        kept with the delivery and nothing starts (``resume_canvas``)."""
        ...

    def record_rejection(
        self, endpoint_id: str, reason: str, now: datetime, code: str = "other"
    ) -> None:
        """A refused delivery, logged with ``reason`` (for people) and ``code`` (a
        ``RejectionCode`` value, for machines)."""
        ...
    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        """Newest first."""
        ...

    # -- pause and resume (a runaway canvas is stopped without losing deliveries) -----
    def pause_canvas(self, name: str, now: datetime) -> datetime:
        """Pause (if not already); returns since when it is paused."""
        ...

    def resume_canvas(
        self,
        name: str,
        plan: Callable[[str, Event], list[NewExecution]] | None,
        now: datetime,
    ) -> Resumed:
        """One transaction: unpause and settle every delivery held while paused; with
        ``plan`` (trigger node, event -> first executions) each held event starts a run,
        without it they are discarded. Both are noted in the delivery log."""
        ...

    def held_deliveries(self, name: str) -> int:
        """How many deliveries the (paused) canvas holds events of."""
        ...

class Runs(Protocol):
    """The self-trigger guard's creates, runs, and their recovery."""

    # -- self-trigger guard (store.guards) ------------------------------------------
    def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime
    ) -> None:
        """A create action of ``canvas`` is about to call out: in flight from ``now``
        (again on each attempt). Committed before returning."""
        ...

    def forget_create(self, execution_id: str) -> None:
        """The create failed: it is no longer in flight (its object, if any, unknown)."""
        ...

    def self_created(
        self, canvas: str, kinds: frozenset[str], object_id: str, live_since: datetime
    ) -> SelfCreated:
        """Whether ``canvas`` created ``object_id`` (of one of ``kinds``), and which of
        its creates started since ``live_since`` are still in flight."""
        ...

    def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime
    ) -> str:
        """A manual (or replayed) run; returns the run id."""
        ...

    def replace_root_event(self, run_id: str, event: Event) -> bool:
        """Make ``event`` the run's trigger event (a trigger's first step completed it:
        ``Emission.root``); False if the run is gone."""
        ...
    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]: ...
    def get_run(self, run_id: str) -> RunRecord: ...

    # -- runs at scale and their recovery (store.run_list, store.recovery) -----------
    def find_runs(self, where: RunFilter, limit: int, before: str | None = None) -> RunPage:
        """Runs matching ``where``, newest first, ``limit`` of them older than the run
        ``before`` (the cursor), with the total that match."""
        ...

    def run_ids(self, where: RunFilter, limit: int) -> tuple[list[str], int]:
        """Ids of at most ``limit`` runs matching ``where`` (oldest first) and how many
        match in all (what a bulk replay would take)."""
        ...

    def canvas_activity(self, canvas: str, since: datetime, now: datetime) -> Activity:
        """Deliveries by outcome and runs by state, per hour from ``since``."""
        ...

    def start_replays(
        self, replays: list[tuple[RunRecord, list[NewExecution]]], batch: str | None,
        now: datetime,
    ) -> list[str]:
        """One transaction: for each (original run, first executions) a new run of the
        same trigger event on the canvas's current version, linked to the original
        (``replay_of``) and to ``batch``; returns the new ids in order."""
        ...

    def retry_execution(self, run_id: str, execution_id: str, now: datetime) -> RunRecord:
        """Queue a failed execution again (same idempotency key; counted again by the
        create rate limit) and reopen its run. NotFound / Conflict (not failed)."""
        ...

    def replay_batch(self, batch: str) -> list[RunRecord]:
        """The runs a bulk replay started (for its progress)."""
        ...

class Executions(Protocol):
    """Claims and outcomes of executions, the catch-up poll, schedules."""

    # -- executions (the engine) -------------------------------------------------
    def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        """Lease due executions: queued ones whose next attempt is due, and running
        ones whose lease expired (their worker died). Commits before returning."""
        ...

    def finish(
        self,
        execution_id: str,
        worker_id: str,
        resolved_config: dict[str, Any] | None,
        emitted: list[Emitted],
        now: datetime,
        origin: ClaimedExecution | None = None,
    ) -> bool:
        """Success. False (and nothing written) if the lease was lost meanwhile.
        ``origin`` (the execution as claimed) lets the store hand its downstream
        executions straight to a worker in this process."""
        ...

    def retry_later(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        next_attempt_at: datetime,
        now: datetime,
    ) -> bool: ...

    def fail(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> bool: ...

    def release(self, worker_id: str, now: datetime) -> int:
        """Hand back every lease this worker holds (graceful shutdown)."""
        ...

    def node_events(self, run_id: str) -> dict[str, Event]:
        """Latest event each node emitted in the run (for ``nodes["Name"]``)."""
        ...

    def queue_depth(self, now: datetime) -> int: ...

    # -- On Incident's catch-up poll (store.catch_up) ----------------------------
    def catch_up_state(self, canvas: str, node: str) -> CatchUpState | None: ...
    def note_catch_up_poll(self, canvas: str, node: str, since: datetime, polled_at: datetime,
                           found: int, error: str | None) -> None: ...
    def claim_incident_change(self, canvas: str, node: str, incident_id: str,
                              updated_at: str, webhook_id: str, now: datetime) -> bool:
        """Before a webhook about this change is accepted; False: the poll ran it."""
        ...
    def start_caught_up_run(self, canvas: str, node: str, incident_id: str, updated_at: str,
                            event: Event, first: list[NewExecution], now: datetime,
                            ) -> str | None:
        """Start the poll's run of one change with its row; None if already recorded."""
        ...

    # -- schedule triggers (store.schedules) -----------------------------------
    def active_schedules(self) -> list[ScheduleRecord]: ...
    def canvas_schedules(self, canvas: str) -> list[ScheduleRecord]: ...
    def fire_schedule(
        self, canvas: str, node: str, due: datetime, event: Event,
        first: list[NewExecution], now: datetime,
    ) -> str | None:
        """Start the run of one due time in the transaction that records it; None if
        it was already recorded (another worker fired it)."""
        ...
    def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool: ...
    def next_due(self, now: datetime) -> datetime | None:
        """When the earliest execution queued for later than ``now`` becomes due."""
        ...

class Waits(Protocol):
    """Waiting steps, cancelling runs, ``waitForEvent``, the create rate limit."""

    # -- waiting steps and cancelling runs (store.waits) ---------------------------
    def begin_wait(
        self, execution_id: str, worker_id: str, waiting: Waiting,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> bool:
        """The leased execution waits (``WaitBegins``): queued until ``waiting.until``
        (None: until settled), its wait recorded once. False if the lease was lost."""
        ...

    def take_wait(self, execution_id: str, now: datetime) -> Wait | None:
        """The execution's wait (None: it has not waited yet), settled as timed out
        first when its time has passed unsettled."""
        ...

    def settle_wait(self, execution_id: str, outcome: dict[str, Any], now: datetime) -> bool:
        """Record ``outcome`` (a decision, a matched event) once, if the wait is open
        and its time has not passed, and make the execution due now. False: it was
        settled already or is past its time (nothing written)."""
        ...

    def run_waits(self, run_id: str) -> list[Wait]:
        """Every wait of the run, open or settled."""
        ...

    def open_waits(self, kind: str | None = None, limit: int = 200,
                   canvas: str | None = None, key: str | None = None) -> list[Wait]:
        """Open waits (of one kind; of one canvas and ``Waiting.key`` when given),
        oldest first; indexed, never a scan of every wait."""
        ...

    def cancel_run(self, run_id: str, who: str, now: datetime) -> None:
        """Cancel a running run: its executions not yet ended never run (or their
        outcome is refused), its open waits are settled, it ends ``cancelled``.
        NotFound for an unknown run; Conflict for one that has ended."""
        ...

    def waiting_counts(self, now: datetime) -> dict[str, int]:
        """Waiting executions by what they wait for ("wait", "retry", "approval", ...)."""
        ...

    # -- waitForEvent (store.event_waits) --------------------------------------------
    def event_wait(
        self, execution_id: str, offers: int = 0
    ) -> tuple[EventWait | None, list[EventOffer]]:
        """What the execution waits for, once it has begun waiting, and up to ``offers``
        events offered to it not evaluated yet, in arrival order (one read)."""
        ...

    def event_offers(self, execution_id: str, limit: int) -> list[EventOffer]:
        """Events offered to the wait and not evaluated yet, in arrival order."""
        ...

    def park_for_event(
        self, wait: EventWait, worker_id: str, seen: list[str],
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> datetime | None:
        """One transaction: the leased execution queued again until ``wait.timeout_at``
        (its attempt handed back), the wait recorded if new, the offers ``seen``
        dropped. Returns when it is due again (now if offers are left), None if the
        lease was lost."""
        ...

    def end_event_wait(self, execution_id: str) -> None:
        """The wait is over (its outcome recorded): forget it and its offers. May
        return before that is committed (nothing depends on it)."""
        ...

    def event_waits_of_run(self, run_id: str) -> list[EventWait]:
        """The run's executions waiting for an event, and until when."""
        ...

    # -- the create rate limit (store.node_limits) -------------------------------
    def take_create_slot(
        self,
        execution_id: str,
        worker_id: str,
        canvas: str,
        node: str,
        limit: RateLimit,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> Admission:
        """One transaction, atomic across processes: admit the execution if it was
        admitted before (a retry, a released one) or a slot of ``limit`` is free in
        the node's window; otherwise trip the node (if not yet) and hold the execution
        (state "held", lease ended, its run stays open). A lost lease: neither."""
        ...

    def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        """Rate-limit rows (of one canvas, or all) with how many executions each holds."""
        ...

    def resume_node(self, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
        """Untrip the node and start a new window; release its held executions (queued
        again, admitted: they do not count against the limit) or discard them
        (state "discarded", their runs settle)."""
        ...

class Admin(Protocol):
    """Integrations, API tokens, secrets for canvases, retention."""

    # -- integrations ------------------------------------------------------------
    def put_integration(
        self,
        name: str,
        type_: str,
        config: dict[str, Any],
        secrets_encrypted: dict[str, str],
        status: str,
        reason: str,
        now: datetime,
    ) -> IntegrationRecord: ...

    def get_integration(self, name: str) -> IntegrationRecord: ...
    def list_integrations(self) -> list[IntegrationRecord]: ...
    def delete_integration(self, name: str) -> None: ...

    # -- API tokens (stored hashed) ------------------------------------------------
    def create_token(
        self, name: str, token_hash: str, now: datetime, kind: str = "api"
    ) -> TokenRecord:
        """``kind`` "api" (a bearer token) or "session" (a browser session's row)."""
        ...
    def list_tokens(self) -> list[TokenRecord]: ...
    def get_token(self, token_id: str) -> TokenRecord: ...
    def revoke_token(self, token_id: str, now: datetime) -> TokenRecord: ...
    def active_token(self, token_hash: str) -> TokenRecord | None: ...
    def touch_token(self, token_id: str, now: datetime) -> None: ...

    # -- secrets for canvases (stored encrypted; values never listed) ---------------
    def put_secret(self, name: str, value_encrypted: str, now: datetime) -> SecretRecord:
        """Create, or replace the value of, the secret ``name``."""
        ...
    def list_secrets(self) -> list[SecretRecord]: ...
    def delete_secret(self, name: str) -> None:
        """NotFound if there is no such secret."""
        ...
    def secrets_encrypted(self) -> dict[str, str]:
        """Every secret's ciphertext by name (for the worker to decrypt)."""
        ...

    # -- retention ---------------------------------------------------------------
    def prune_batch(
        self, runs_before: datetime, deliveries_before: datetime, limit: int,
        sessions_before: datetime | None = None,
    ) -> Pruned:
        """Delete at most ``limit`` finished runs (with their executions and events),
        old delivery rows and expired browser-session rows; small batches so ingest
        never waits long."""
        ...


class WorkerPlumbing(Protocol):
    """What only the engine's worker and the app that hosts it use: leases' heartbeat,
    the hand-over to a worker in this process, wakeups, the outcome meter."""

    def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float
    ) -> int:
        """Heartbeat: push the lease of these still-running executions forward; returns
        how many this worker still held (a lost one is not extended)."""
        ...

    def attach_worker(self, worker: LocalWorker) -> None:
        """New executions may be leased to ``worker`` as they are enqueued (hand-over);
        one worker per store."""
        ...

    def detach_worker(self, worker: LocalWorker) -> None: ...

    def listen_for_work(
        self, on_notify: Callable[[], None],
        on_due: Callable[[datetime], None] | None = None,
    ) -> WorkListener | None:
        """A started listener calling ``on_notify`` when another process commits work
        and ``on_due(when)`` when it queued work for later; None when this store has no
        other processes to hear from (the worker then polls)."""
        ...

    def wake_on_work(self, callback: Callable[[], None] | None) -> None:
        """``callback`` is called after every commit that made executions due, so an
        in-process worker wakes at once (``engine.wakeup``)."""
        ...

    def meter_outcomes(self, meter: OutcomeMeter) -> None:
        """The async face reports the outcomes it records on the hot path to ``meter``
        from now on (one meter per store; ``store_metrics.StoreMetrics``)."""
        ...


class Store(CanvasesAndDeliveries, Runs, Executions, Waits, Admin, WorkerPlumbing, Protocol):
    """The whole synchronous port: its rooms above, the worker's plumbing, the schema."""

    @property
    def aio(self) -> AsyncStore:
        """This store's async face (``store.async_port``): what async callers use."""
        ...

    def migrate(self) -> None: ...
    def close(self) -> None: ...
