"""``InMemoryStore``: the ``Store`` port in memory, the SQL store's twin for tests and
for trying things out (``incidentflow.testing`` re-exports it).

Same behaviour as ``SqlStore``, held in plain records (``store.memory_rows``):
canvas versions by content hash, stable webhook endpoints and secret rotation grace,
deliveries deduplicated per endpoint and webhook-id, paused canvases holding their
deliveries, runs and executions with leases and per-key ordering (``MemoryWork``),
the create rate limit, schedules, tokens, secrets, retention. The store behaviour
suite (tests/store) runs on memory, SQLite and PostgreSQL alike.

Nothing survives the process, and there is no other process: ``listen_for_work`` is
None and every call is atomic under one lock.

Why a class with every port method (over the usual ~20), and a module over 400 lines:
it is the port's in-memory adapter, method for method with ``SqlStore`` (whose rooms
are separate SQL modules); the engine's half is ``MemoryWork``.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentflow.canvas import Canvas, Node
from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.store.async_port import AsyncStore
from incidentflow.store.codec import canvas_from_spec, canvas_to_spec, new_id, spec_hash
from incidentflow.store.inline import InlineStore
from incidentflow.store.memory_rows import (
    CanvasRow,
    CanvasVersion,
    DeliveryRow,
    EndpointRow,
    TokenRow,
    copied,
    storable,
)
from incidentflow.store.memory_runs import MemoryRuns
from incidentflow.store.outcome_meter import OutcomeMeter
from incidentflow.store.port import (
    CanvasRecord,
    CanvasSummary,
    DeliveryOutcome,
    DeliveryRecord,
    DeliveryResult,
    Endpoint,
    ExecutionRecord,
    IntegrationRecord,
    NewExecution,
    Pruned,
    Resumed,
    RunRecord,
    SavedCanvas,
    ScheduleRecord,
    SecretRecord,
    TokenRecord,
)
from incidentflow.store.records import FILTERED_REASON

if TYPE_CHECKING:
    from incidentflow.store.node_roles import NodeRoles

# The SQL store's texts and rules (store.accepts, store.pauses, store.endpoints),
# stated once more here because those modules cannot be imported without SQLAlchemy.
NO_EVENT = "no event to run"
PAUSED = "canvas paused: held until it is resumed"
RUN_ON_RESUME = "paused; run when the canvas was resumed"
DISCARDED_ON_RESUME = "paused; discarded when the canvas was resumed"
SECRET_GRACE = timedelta(hours=24)  # docs/design-rules.md, "Secret rotation grace"
OUTCOMES: tuple[DeliveryOutcome, ...] = (
    "accepted", "duplicate", "rejected", "ignored", "filtered", "paused")
SCHEDULE_TYPE = "schedule"


class InMemoryStore(MemoryRuns):
    def __init__(self, roles: NodeRoles):
        """``roles`` says which nodes of a canvas get webhook endpoints and which are
        triggers (the registry; the store knows no components)."""
        super().__init__()
        self._roles = roles

    # -- schema ----------------------------------------------------------------------
    @property
    def aio(self) -> AsyncStore:
        return self._async_face

    @functools.cached_property
    def _async_face(self) -> InlineStore:
        """Calls made inline, on the caller's loop: a lock and plain records, no thread."""
        return InlineStore(self)

    def meter_outcomes(self, meter: OutcomeMeter) -> None:
        self._async_face.meter = meter

    def migrate(self) -> None:
        """Nothing to migrate: the tables are the records."""

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        self._attached = self._local_worker = None

    # -- canvases --------------------------------------------------------------------
    def save_canvas(self, canvas: Canvas, source: str, warnings: list[dict[str, Any]],
                    now: datetime) -> SavedCanvas:
        spec = canvas_to_spec(canvas)
        digest = spec_hash(spec)
        with self._lock:
            row = self._t.canvases.get(canvas.name)
            if row is not None and row.versions[row.current].digest == digest:
                return SavedCanvas(canvas.name, row.current, created=False)
            if row is None:
                row = self._t.canvases[canvas.name] = CanvasRow(canvas.name, 0, now, now)
            row.current, row.updated_at = row.current + 1, now
            row.versions[row.current] = CanvasVersion(canvas_from_spec(spec), source, digest,
                                                      copied(warnings))
            self._sync_endpoints(canvas.name, self._roles.webhook_nodes(canvas))
            self._sync_schedules(canvas.name, self._schedule_nodes(canvas), now)
            return SavedCanvas(canvas.name, row.current, created=True)

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        with self._lock:
            row = self._canvas(name)
            wanted = row.current if version is None else version
            found = row.versions.get(wanted)
            if found is None:
                raise NotFound(f"canvas {name!r} has no version {wanted}")
            return CanvasRecord(name, wanted, canvas_from_spec(canvas_to_spec(found.canvas)),
                                found.source, row.created_at, row.updated_at,
                                copied(found.warnings), row.paused_at)

    def list_canvases(self) -> list[CanvasSummary]:
        with self._lock:
            return [self._summary(row) for _, row in sorted(self._t.canvases.items())]

    def _summary(self, row: CanvasRow) -> CanvasSummary:
        runs = [run for run in self._t.runs.values() if run.canvas == row.name]
        last = max(runs, key=lambda run: run.id, default=None)
        return CanvasSummary(
            row.name, row.current, row.updated_at,
            self._roles.trigger_nodes(row.versions[row.current].canvas),
            last.id if last else None, last.state if last else None,
            last.created_at if last else None, row.paused_at)

    def delete_canvas(self, name: str) -> None:
        with self._lock:
            self._canvas(name)
            del self._t.canvases[name]
            self._t.forget_canvas(name)

    def _canvas(self, name: str) -> CanvasRow:
        found = self._t.canvases.get(name)
        if found is None:
            raise NotFound(f"canvas {name!r} does not exist")
        return found

    # -- webhook endpoints -----------------------------------------------------------
    def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint:
        with self._lock:
            return _endpoint(self._endpoint(endpoint_id), now)

    def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint:
        with self._lock:
            return _endpoint(self._endpoint_of(canvas, node), now)

    def set_endpoint_secret(self, canvas: str, node: str, secret_encrypted: str | None,
                            now: datetime) -> Endpoint:
        with self._lock:
            row = self._endpoint_of(canvas, node)
            keep = secret_encrypted is not None and row.secret_enc is not None
            row.previous_secret_enc = row.secret_enc if keep else None
            row.previous_valid_until = now + SECRET_GRACE if keep else None
            row.secret_enc = secret_encrypted
            return _endpoint(row, now)

    def _endpoint(self, endpoint_id: str) -> EndpointRow:
        found = self._t.endpoints.get(endpoint_id)
        if found is None:
            raise NotFound(f"webhook endpoint {endpoint_id!r} does not exist")
        return found

    def _endpoint_of(self, canvas: str, node: str) -> EndpointRow:
        for row in self._t.endpoints.values():
            if (row.canvas, row.node) == (canvas, node):
                return row
        raise NotFound(f"node {node!r} of canvas {canvas!r} has no webhook endpoint")

    def _sync_endpoints(self, canvas: str, nodes: list[str]) -> None:
        """New webhook-trigger nodes get an endpoint; removed ones lose theirs; the
        others keep id and secret (docs/design-rules.md, "Stable webhook URLs")."""
        existing = {row.node: row.id for row in self._t.endpoints.values()
                    if row.canvas == canvas}
        for node in sorted(set(nodes) - set(existing)):
            endpoint_id = secrets.token_urlsafe(18)
            self._t.endpoints[endpoint_id] = EndpointRow(endpoint_id, canvas, node)
        for node in set(existing) - set(nodes):
            gone = existing[node]
            del self._t.endpoints[gone]
            self._t.deliveries = [d for d in self._t.deliveries if d.endpoint_id != gone]

    # -- deliveries and runs ---------------------------------------------------------
    def accept_delivery(self, endpoint_id: str, webhook_id: str | None,
                        events: list[tuple[Event, list[NewExecution]]], now: datetime,
                        reason: str = "") -> DeliveryResult:
        storable(*(event.data for event, _ in events))
        handoff = self._handoff(now)
        with self._lock:
            endpoint = self._endpoint(endpoint_id)
            canvas = self._t.canvases[endpoint.canvas]
            if webhook_id is not None and any(
                    (d.endpoint_id, d.webhook_id) == (endpoint_id, webhook_id)
                    for d in self._t.deliveries):
                return self._delivered(endpoint, None, "duplicate", "", None, now)
            if canvas.paused_at is not None and events:  # held, nothing starts
                held = [event.as_dict() for event, _ in events]
                return self._delivered(endpoint, webhook_id, "paused", PAUSED, held, now)
            run_ids = [self._insert_run(canvas.name, canvas.current, endpoint.node, event, first,
                                        now, handoff) for event, first in events]
            reason = "" if events else reason or NO_EVENT
            outcome: DeliveryOutcome = ("accepted" if events else "filtered"
                                        if reason.startswith(FILTERED_REASON) else "ignored")
            result = self._delivered(endpoint, webhook_id, outcome, reason, None, now, run_ids)
        self._committed(handoff, sum(len(first) for _, first in events))
        return result

    def _delivered(self, endpoint: EndpointRow, webhook_id: str | None,
                   outcome: DeliveryOutcome, reason: str, held: list[dict[str, Any]] | None,
                   now: datetime, run_ids: list[str] | None = None,
                   code: str = "") -> DeliveryResult:
        """Count the outcome; record the delivery (a duplicate only counts)."""
        endpoint.counts[outcome] = endpoint.counts.get(outcome, 0) + 1
        endpoint.last_delivery_at = now
        run_ids = run_ids or []
        if outcome != "duplicate":
            self._t.deliveries.append(DeliveryRow(
                new_id(), endpoint.id, webhook_id, outcome, reason,
                run_ids[0] if run_ids else None, now, held, code))
        return DeliveryResult(outcome, run_ids, reason)

    def record_rejection(self, endpoint_id: str, reason: str, now: datetime,
                         code: str = "other") -> None:
        with self._lock:
            self._delivered(self._endpoint(endpoint_id), None, "rejected", reason, None, now,
                            code=code)

    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        with self._lock:
            rows = sorted((d for d in self._t.deliveries if d.endpoint_id == endpoint_id),
                          key=lambda d: (d.received_at, d.id), reverse=True)[:limit]
            return [DeliveryRecord(d.id, d.endpoint_id, d.webhook_id, d.outcome, d.reason,
                                   d.received_at, d.run_id, len(d.held_events or ()), d.code)
                    for d in rows]

    def start_run(self, canvas: str, node: str, event: Event, first: list[NewExecution],
                  now: datetime) -> str:
        storable(event.data)
        handoff = self._handoff(now)
        with self._lock:
            run_id = self._insert_run(canvas, self._current_version(canvas), node, event, first,
                                      now, handoff)
        self._committed(handoff, len(first))
        return run_id

    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        with self._lock:
            runs = sorted((r for r in self._t.runs.values() if r.canvas == canvas),
                          key=lambda r: r.id, reverse=True)[:limit]
            return [self._run(run.id, with_executions=False) for run in runs]

    def get_run(self, run_id: str) -> RunRecord:
        with self._lock:
            if run_id not in self._t.runs:
                raise NotFound(f"run {run_id!r} does not exist")
            return self._run(run_id, with_executions=True)

    def _run(self, run_id: str, with_executions: bool) -> RunRecord:
        run = self._t.runs[run_id]
        root = copied(self._t.events[run.root_event_id].event)
        executions = self._executions(run_id) if with_executions else []
        replays = (sorted(r.id for r in self._t.runs.values() if r.replay_of == run_id)
                   if with_executions else [])
        return RunRecord(run.id, run.canvas, run.canvas_version, run.trigger_node, run.state,
                         root, run.created_at, run.finished_at, executions, run.replay_of,
                         run.replay_batch, replays)

    def _executions(self, run_id: str) -> list[ExecutionRecord]:
        emitted: dict[str, list[dict[str, Any]]] = {}
        for event in sorted(self._t.events.values(), key=lambda e: e.id):
            if event.run_id == run_id and event.execution_id is not None:
                emitted.setdefault(event.execution_id, []).append(
                    {"channel": event.channel, "event": event.event.as_dict()})
        rows = sorted((e for e in self._t.executions.values() if e.run_id == run_id),
                      key=lambda e: e.id)
        return [ExecutionRecord(
            e.id, e.run_id, e.node, e.state, e.attempts, e.idempotency_key,
            copied(self._t.events[e.input_event_id].event), copied(e.resolved_config),
            emitted.get(e.id, []), e.error, copied(e.error_details), e.created_at,
            e.started_at, e.finished_at, e.next_attempt_at, e.attempt_started_at,
            copied(e.history)) for e in rows]

    # -- pause and resume ------------------------------------------------------------
    def pause_canvas(self, name: str, now: datetime) -> datetime:
        with self._lock:
            row = self._canvas(name)
            row.paused_at = row.paused_at or now  # already paused: since then
            return row.paused_at

    def resume_canvas(self, name: str, plan: Callable[[str, Event], list[NewExecution]] | None,
                      now: datetime) -> Resumed:
        with self._lock:
            row = self._canvas(name)
            row.paused_at = None
            run_ids: list[str] = []
            discarded = 0
            for delivery, node in self._held(name):
                events = [Event.from_dict(raw) for raw in delivery.held_events or ()]
                delivery.held_events = None
                if plan is None:
                    discarded += 1
                    delivery.run_id, delivery.reason = None, DISCARDED_ON_RESUME
                    continue
                started = [self._insert_run(name, row.current, node, event, plan(node, event),
                                            now) for event in events]
                run_ids += started
                delivery.run_id, delivery.reason = started[0] if started else None, RUN_ON_RESUME
        if run_ids and self._on_work is not None:
            self._on_work()
        return Resumed(run_ids, discarded)

    def held_deliveries(self, name: str) -> int:
        with self._lock:
            self._canvas(name)
            return len(self._held(name))

    def _held(self, canvas: str) -> list[tuple[DeliveryRow, str]]:
        nodes = {e.id: e.node for e in self._t.endpoints.values() if e.canvas == canvas}
        held = [(d, nodes[d.endpoint_id]) for d in self._t.deliveries
                if d.endpoint_id in nodes and d.held_events is not None]
        return sorted(held, key=lambda pair: (pair[0].received_at, pair[0].id))

    # -- schedule triggers -----------------------------------------------------------
    def active_schedules(self) -> list[ScheduleRecord]:
        with self._lock:
            return [s for key, s in sorted(self._t.schedules.items())
                    if self._t.canvases[key[0]].paused_at is None]

    def canvas_schedules(self, canvas: str) -> list[ScheduleRecord]:
        with self._lock:
            return [s for key, s in sorted(self._t.schedules.items()) if key[0] == canvas]

    def fire_schedule(self, canvas: str, node: str, due: datetime, event: Event,
                      first: list[NewExecution], now: datetime) -> str | None:
        handoff = self._handoff(now)
        with self._lock:
            if (canvas, node, due) in self._t.schedule_fires:
                return None  # another worker fired it
            version = self._current_version(canvas)
            run_id = self._insert_run(canvas, version, node, event, first, now, handoff)
            self._note(canvas, node, due, "fired", run_id, now)
        self._committed(handoff, len(first))
        return run_id

    def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool:
        with self._lock:
            if (canvas, node, due) in self._t.schedule_fires:
                return False
            self._note(canvas, node, due, "skipped", None, now)
            return True

    def _note(self, canvas: str, node: str, due: datetime, outcome: str, run_id: str | None,
              now: datetime) -> None:
        self._t.schedule_fires[(canvas, node, due)] = run_id
        current = self._t.schedules.get((canvas, node))
        if current is not None:
            self._t.schedules[(canvas, node)] = _replace(
                current, last_due_at=due, last_outcome=outcome, last_run_id=run_id, last_at=now)

    def _sync_schedules(self, canvas: str, nodes: list[Node], now: datetime) -> None:
        """The canvas's schedule nodes; a changed cron or zone starts afresh from now."""
        wanted = {node.name: node for node in nodes}
        for key in [k for k in self._t.schedules if k[0] == canvas and k[1] not in wanted]:
            del self._t.schedules[key]
        for name, node in wanted.items():
            config = node.configuration
            cron, zone = str(config["cron"]), str(config.get("timezone", "UTC"))
            catch_up = int(config.get("catchUpMinutes", 0))
            old = self._t.schedules.get((canvas, name))
            if old is None:
                self._t.schedules[(canvas, name)] = ScheduleRecord(
                    canvas, name, cron, zone, catch_up, now, None, None, None, None)
                continue
            since = old.since if (old.cron, old.timezone) == (cron, zone) else now
            self._t.schedules[(canvas, name)] = _replace(
                old, cron=cron, timezone=zone, catch_up_minutes=catch_up, since=since)

    # -- integrations ----------------------------------------------------------------
    def put_integration(self, name: str, type_: str, config: dict[str, Any],
                        secrets_encrypted: dict[str, str], status: str, reason: str,
                        now: datetime) -> IntegrationRecord:
        with self._lock:
            old = self._t.integrations.get(name)
            record = IntegrationRecord(name, type_, copied(config), dict(secrets_encrypted),
                                       status, reason,  # type: ignore[arg-type]
                                       old.created_at if old else now, now)
            self._t.integrations[name] = record
            return copied(record)

    def get_integration(self, name: str) -> IntegrationRecord:
        with self._lock:
            found = self._t.integrations.get(name)
            if found is None:
                raise NotFound(f"integration {name!r} does not exist")
            return copied(found)

    def list_integrations(self) -> list[IntegrationRecord]:
        with self._lock:
            return [copied(r) for _, r in sorted(self._t.integrations.items())]

    def delete_integration(self, name: str) -> None:
        with self._lock:
            if self._t.integrations.pop(name, None) is None:
                raise NotFound(f"integration {name!r} does not exist")

    # -- API tokens and browser-session rows -----------------------------------------
    def create_token(self, name: str, token_hash: str, now: datetime,
                     kind: str = "api") -> TokenRecord:
        record = TokenRecord(new_id(), name, now, None, None, kind)
        with self._lock:
            self._t.tokens[record.id] = TokenRow(record, token_hash)
        return record

    def list_tokens(self) -> list[TokenRecord]:
        with self._lock:
            return [row.record for _, row in sorted(self._t.tokens.items())]

    def get_token(self, token_id: str) -> TokenRecord:
        with self._lock:
            return self._token(token_id).record

    def revoke_token(self, token_id: str, now: datetime) -> TokenRecord:
        with self._lock:
            row = self._token(token_id)
            if row.record.revoked_at is None:  # the first revocation time stays
                row.record = _replace(row.record, revoked_at=now)
            return row.record

    def active_token(self, token_hash: str) -> TokenRecord | None:
        with self._lock:
            for row in self._t.tokens.values():
                if row.token_hash == token_hash and not row.record.revoked:
                    return row.record
        return None

    def touch_token(self, token_id: str, now: datetime) -> None:
        with self._lock:
            row = self._t.tokens.get(token_id)
            if row is not None:
                row.record = _replace(row.record, last_used_at=now)

    def _token(self, token_id: str) -> TokenRow:
        found = self._t.tokens.get(token_id)
        if found is None:
            raise NotFound(f"token {token_id!r} does not exist")
        return found

    # -- secrets for canvases --------------------------------------------------------
    def put_secret(self, name: str, value_encrypted: str, now: datetime) -> SecretRecord:
        with self._lock:
            old = self._t.secrets.get(name)
            record = SecretRecord(name, old[0].created_at if old else now, now)
            self._t.secrets[name] = (record, value_encrypted)
            return record

    def list_secrets(self) -> list[SecretRecord]:
        with self._lock:
            return [record for _, (record, _) in sorted(self._t.secrets.items())]

    def delete_secret(self, name: str) -> None:
        with self._lock:
            if self._t.secrets.pop(name, None) is None:
                raise NotFound(f"secret {name!r} does not exist")

    def secrets_encrypted(self) -> dict[str, str]:
        with self._lock:
            return {name: value for name, (_, value) in self._t.secrets.items()}

    # -- retention -------------------------------------------------------------------
    def prune_batch(self, runs_before: datetime, deliveries_before: datetime, limit: int,
                    sessions_before: datetime | None = None) -> Pruned:
        with self._lock:
            t = self._t
            runs = sorted((r for r in t.runs.values() if r.state != "running"
                           and r.finished_at is not None and r.finished_at < runs_before),
                          key=lambda r: r.finished_at or runs_before)[:limit]
            gone = {r.id for r in runs}
            t.runs = {k: v for k, v in t.runs.items() if k not in gone}
            t.events = {k: v for k, v in t.events.items() if v.run_id not in gone}
            t.executions = {k: v for k, v in t.executions.items() if v.run_id not in gone}
            old = [d.id for d in t.deliveries
                   if d.received_at < deliveries_before and d.held_events is None][:limit]
            t.deliveries = [d for d in t.deliveries if d.id not in set(old)]
            cutoff = sessions_before or deliveries_before
            sessions = [k for k, row in t.tokens.items() if row.record.is_session
                        and row.record.created_at < cutoff][:limit]
            for key in sessions:
                del t.tokens[key]
            created = [k for k, row in t.created.items() if row.started_at < runs_before][:limit]
            for key in created:
                del t.created[key]
        return Pruned(len(gone), len(old), len(sessions), len(created))

    # -- which nodes are schedules (the store's own node type) ------------------------
    def _schedule_nodes(self, canvas: Canvas) -> list[Node]:
        return [n for n in canvas.nodes if n.type == SCHEDULE_TYPE]


def _endpoint(row: EndpointRow, now: datetime) -> Endpoint:
    valid = [row.secret_enc] if row.secret_enc else []
    until = row.previous_valid_until
    in_grace = bool(row.previous_secret_enc) and until is not None and until > now
    if in_grace:
        valid.append(row.previous_secret_enc)  # type: ignore[arg-type]
    return Endpoint(
        id=row.id, canvas=row.canvas, node=row.node,
        secret_configured=row.secret_enc is not None, secrets_encrypted=tuple(valid),
        last_delivery_at=row.last_delivery_at,
        counts={outcome: row.counts.get(outcome, 0) for outcome in OUTCOMES},
        previous_valid_until=until if in_grace else None,
    )


def _replace(record: Any, **changes: Any) -> Any:
    return replace(record, **changes)
