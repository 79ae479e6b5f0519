"""``SqlStore``: the ``Store`` port on SQLAlchemy Core, for SQLite and PostgreSQL.

A thin facade: every method is one transaction that hands one SQL function of its
room to a read or write transaction, or to the group-commit writer
(``store.writer``). The rooms: canvases ``store/canvas_rows.py``, endpoints
``store/endpoints.py``, deliveries and their dedupe ``store/accepts.py``, runs and
executions ``store/work_queue.py`` and ``store/finishes.py``, pauses, schedules, guards,
node limits, integrations ``store/integration_rows.py``, tokens, secrets, retention.
The engine's half (claims, finishes, leases, hand-over) is ``store.sql_work.SqlWork``
and the waiting steps' ``store.sql_waits.SqlWaits``, which this class extends.

Why one class with every port method (over the usual ~20), and a module a little over
400 lines: it is the port's SQL adapter, and its methods are only the composition of
the rooms above (the engine's and the waiting steps' halves are already apart).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.canvas import Canvas, Node
from incidentflow.events import Event
from incidentflow.store import (
    accepts,
    canvas_rows,
    guards,
    history,
    integration_rows,
    pauses,
    recovery,
    retention,
    run_list,
    secret_rows,
    tokens,
    work_queue,
)
from incidentflow.store import catch_up as catch_up_rows
from incidentflow.store import endpoints as endpoint_rows
from incidentflow.store import roots as root_rows
from incidentflow.store import schedules as schedule_rows
from incidentflow.store.accepts import Accept, accept_many, accept_one
from incidentflow.store.async_port import AsyncStore
from incidentflow.store.port import (
    Activity,
    CanvasRecord,
    CanvasSummary,
    CatchUpState,
    DeliveryRecord,
    DeliveryResult,
    Endpoint,
    IntegrationRecord,
    NewExecution,
    Resumed,
    RunFilter,
    RunPage,
    RunRecord,
    SavedCanvas,
)
from incidentflow.store.sql_waits import SqlWaits
from incidentflow.store.sql_work import left_queued
from incidentflow.store.threaded import ThreadedStore
from incidentflow.store.writer import waited

if TYPE_CHECKING:
    from incidentflow.store.node_roles import NodeRoles


class _Accepts:
    """The writer's group of ``accept_delivery`` jobs (``store.writer.Group``)."""

    def run_many(self, conn: Connection, payloads: list[Accept]) -> list[DeliveryResult]:
        return accept_many(conn, payloads)


_ACCEPTS = _Accepts()


class SqlStore(SqlWaits):
    def __init__(self, database_url: str, roles: NodeRoles, *,
                 on_work: Callable[[], None] | None = None, sqlite_synchronous: str = "FULL"):
        """``roles`` says which nodes of a canvas get webhook endpoints and which are
        triggers (the registry; the store knows no components).
        ``on_work`` is called after every commit that made executions due."""
        super().__init__(database_url, on_work=on_work, sqlite_synchronous=sqlite_synchronous)
        self._roles = roles

    # -- schema ----------------------------------------------------------------------------
    @functools.cached_property
    def aio(self) -> AsyncStore:
        return ThreadedStore(self)

    def migrate(self) -> None:
        self._db.migrate()

    def ping(self) -> None:
        with self._db.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self._db.close()

    @property
    def engine(self) -> sa.Engine:
        return self._db.engine

    # -- canvases (store/canvas_rows.py) ---------------------------------------------------
    def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime
    ) -> SavedCanvas:
        with self._db.write() as conn:
            return canvas_rows.save(conn, canvas, source, warnings, now,
                                    self._roles.webhook_nodes(canvas),
                                    self._schedule_nodes(canvas))

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        with self._db.read() as conn:
            return canvas_rows.get(conn, name, version)

    def list_canvases(self) -> list[CanvasSummary]:
        with self._db.read() as conn:
            return canvas_rows.summaries(conn, self._roles.trigger_nodes)

    def delete_canvas(self, name: str) -> None:
        with self._db.write() as conn:
            canvas_rows.delete(conn, name)

    # -- webhook endpoints (store/endpoints.py) --------------------------------------------
    def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint:
        with self._db.read() as conn:
            return endpoint_rows.by_id(conn, endpoint_id, now)

    def endpoint_for_node(self, canvas: str, node: str, now: datetime) -> Endpoint:
        with self._db.read() as conn:
            return endpoint_rows.by_node(conn, canvas, node, now)

    def set_endpoint_secret(
        self, canvas: str, node: str, secret_encrypted: str | None, now: datetime
    ) -> Endpoint:
        with self._db.write() as conn:
            return endpoint_rows.set_secret(conn, canvas, node, secret_encrypted, now)

    # -- deliveries (store/accepts.py) and runs --------------------------------------------
    def accept_delivery(
        self, endpoint_id: str, webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]], now: datetime, reason: str = "",
    ) -> DeliveryResult:
        # Group commit (store.writer): concurrent deliveries share one transaction and
        # one fsync; answered only after the commit.
        result: DeliveryResult = waited(
            partial(self.accept_delivery_then, reason=reason),
            endpoint_id, webhook_id, events, now)
        return result

    def accept_delivery_then(
        self, endpoint_id: str, webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]], now: datetime,
        then: Callable[[DeliveryResult | None, BaseException | None], None], reason: str = "",
    ) -> None:
        """``accept_delivery`` without blocking (see ``finish_then``): the webhook
        receiver awaits the commit on its event loop instead of in a thread."""
        handoff = self._handoff(now)
        item = Accept(endpoint_id, webhook_id, events, now, handoff, reason)
        # Alone (when its batch is redone): the same path with one item (store.accepts).
        accept = partial(accept_one, item=item, concurrent_inserts=not self._db.is_sqlite)
        enqueued = sum(len(first) for _, first in events)
        self._db.writer.submit_then(
            accept, then,
            lambda result: result.outcome == "accepted" and left_queued(handoff, enqueued),
            after=handoff.settle if handoff else None,
            # Grouped: the batch's deliveries are recorded set-based (store.accepts).
            group=_ACCEPTS, payload=item,
        )

    def record_rejection(
        self, endpoint_id: str, reason: str, now: datetime, code: str = "other"
    ) -> None:
        # Through the writer: a flood of bad signatures is batched too.
        reject = partial(accepts.reject, endpoint_id=endpoint_id, reason=reason, now=now,
                         code=code)
        self._db.writer.submit(reject).result()

    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        with self._db.read() as conn:
            return history.recent_deliveries(conn, endpoint_id, limit)

    def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime
    ) -> str:
        handoff = self._handoff(now)

        def start(conn: Connection) -> str:
            if handoff is not None:
                handoff.reset()
            version = canvas_rows.current_version(conn, canvas)
            return work_queue.insert_run(conn, canvas, version, node, event, first, now,
                                    handoff=handoff)

        return self._db.writer.submit(
            start, lambda _: left_queued(handoff, len(first)),
            after=handoff.settle if handoff else None,
        ).result()

    def replace_root_event(self, run_id: str, event: Event) -> bool:
        """The run's trigger event becomes ``event`` (``store.roots``)."""
        replace = partial(root_rows.replace, run_id=run_id, event=event)
        done: bool = self._db.writer.submit(replace).result()
        return done

    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        with self._db.read() as conn:
            return history.list_runs(conn, canvas, limit)

    def get_run(self, run_id: str) -> RunRecord:
        with self._db.read() as conn:
            return history.get_run(conn, run_id)

    # -- runs at scale and their recovery (store/run_list.py, store/recovery.py) --------
    def find_runs(self, where: RunFilter, limit: int, before: str | None = None) -> RunPage:
        with self._db.read() as conn:
            return run_list.find_runs(conn, where, limit, before)

    def run_ids(self, where: RunFilter, limit: int) -> tuple[list[str], int]:
        with self._db.read() as conn:
            return run_list.run_ids(conn, where, limit)

    def canvas_activity(self, canvas: str, since: datetime, now: datetime) -> Activity:
        with self._db.read() as conn:
            return run_list.canvas_activity(conn, canvas, since, now)

    def replay_batch(self, batch: str) -> list[RunRecord]:
        with self._db.read() as conn:
            return run_list.replay_batch(conn, batch)

    def start_replays(
        self, replays: list[tuple[RunRecord, list[NewExecution]]], batch: str | None,
        now: datetime,
    ) -> list[str]:
        start = partial(recovery.start_replays, replays=replays, batch=batch, now=now)
        started: list[str] = self._db.writer.submit(start, bool).result()
        return started

    def retry_execution(self, run_id: str, execution_id: str, now: datetime) -> RunRecord:
        retry = partial(recovery.retry_execution, run_id=run_id, execution_id=execution_id,
                        now=now)
        self._db.writer.submit(retry, lambda _: True).result()
        return self.get_run(run_id)

    # -- pause and resume (store/pauses.py) ------------------------------------------------
    def pause_canvas(self, name: str, now: datetime) -> datetime:
        with self._db.write() as conn:
            return pauses.pause(conn, name, now)

    def resume_canvas(
        self, name: str, plan: pauses.Plan | None, now: datetime
    ) -> Resumed:
        resume = partial(pauses.resume, name=name, plan=plan, now=now)
        # Through the writer, as start_run: the runs it starts wake the workers.
        resumed: Resumed = self._db.writer.submit(
            resume, lambda done: bool(done.run_ids)).result()
        return resumed

    def held_deliveries(self, name: str) -> int:
        with self._db.read() as conn:
            return pauses.held_count(conn, name)

    # -- On Incident's catch-up poll (store/catch_up.py) ------------------------------------
    def catch_up_state(self, canvas: str, node: str) -> CatchUpState | None:
        with self._db.read() as conn:
            return catch_up_rows.state(conn, canvas, node)

    def note_catch_up_poll(self, canvas: str, node: str, since: datetime, polled_at: datetime,
                           found: int, error: str | None) -> None:
        note = partial(catch_up_rows.note_poll, canvas=canvas, node=node, since=since,
                       polled_at=polled_at, found=found, error=error)
        self._db.writer.submit(note).result()

    def claim_incident_change(self, canvas: str, node: str, incident_id: str,
                              updated_at: str, webhook_id: str, now: datetime) -> bool:
        """A webhook's claim on one change; False if the poll already ran it."""
        claim = partial(catch_up_rows.claim_for_webhook, canvas=canvas, node=node,
                        incident_id=incident_id, updated_at=updated_at,
                        webhook_id=webhook_id, now=now)
        claimed: bool = self._db.writer.submit(claim).result()
        return claimed

    def start_caught_up_run(self, canvas: str, node: str, incident_id: str, updated_at: str,
                            event: Event, first: list[NewExecution], now: datetime,
                            ) -> str | None:
        """The poll's run of one change, in the transaction that records the change;
        None if a webhook or another worker recorded it first."""
        handoff = self._handoff(now)

        def start(conn: Connection) -> str | None:
            if handoff is not None:
                handoff.reset()
            if not catch_up_rows.record_change(conn, canvas, node, incident_id, updated_at,
                                               catch_up_rows.POLL, now):
                return None
            version = canvas_rows.current_version(conn, canvas)
            run_id = work_queue.insert_run(conn, canvas, version, node, event, first, now,
                                      handoff=handoff)
            catch_up_rows.note_run(conn, canvas, node, incident_id, updated_at, run_id)
            return run_id

        return self._db.writer.submit(
            start, lambda run_id: run_id is not None and left_queued(handoff, len(first)),
            after=handoff.settle if handoff else None,
        ).result()

    # -- schedule triggers (store/schedules.py) --------------------------------------------
    def active_schedules(self) -> list[schedule_rows.ScheduleRecord]:
        """The schedules of canvases that are not paused."""
        with self._db.read() as conn:
            return schedule_rows.active(conn)

    def canvas_schedules(self, canvas: str) -> list[schedule_rows.ScheduleRecord]:
        with self._db.read() as conn:
            return schedule_rows.of_canvas(conn, canvas)

    def fire_schedule(
        self, canvas: str, node: str, due: datetime, event: Event,
        first: list[NewExecution], now: datetime,
    ) -> str | None:
        """Start the run of one due time; None if another worker already fired it."""
        handoff = self._handoff(now)

        def fire(conn: Connection) -> str | None:
            if handoff is not None:
                handoff.reset()
            if not schedule_rows.claim_due(conn, canvas, node, due, schedule_rows.FIRED, now):
                return None
            version = canvas_rows.current_version(conn, canvas)
            run_id = work_queue.insert_run(conn, canvas, version, node, event, first, now,
                                      handoff=handoff)
            schedule_rows.note(conn, canvas, node, due, schedule_rows.FIRED, run_id, now)
            return run_id

        return self._db.writer.submit(
            fire, lambda run_id: run_id is not None and left_queued(handoff, len(first)),
            after=handoff.settle if handoff else None,
        ).result()

    def skip_schedule(self, canvas: str, node: str, due: datetime, now: datetime) -> bool:
        """Record that a missed due time was skipped; False if already recorded."""
        def skip(conn: Connection) -> bool:
            if not schedule_rows.claim_due(conn, canvas, node, due, schedule_rows.SKIPPED, now):
                return False
            schedule_rows.note(conn, canvas, node, due, schedule_rows.SKIPPED, None, now)
            return True

        return self._db.writer.submit(skip).result()

    # -- integrations (store/integration_rows.py) ------------------------------------------
    def put_integration(
        self, name: str, type_: str, config: dict[str, Any], secrets_encrypted: dict[str, str],
        status: str, reason: str, now: datetime,
    ) -> IntegrationRecord:
        with self._db.write() as conn:
            return integration_rows.put(conn, name, type_, config, secrets_encrypted, status,
                                        reason, now)

    def get_integration(self, name: str) -> IntegrationRecord:
        with self._db.read() as conn:
            return integration_rows.get(conn, name)

    def list_integrations(self) -> list[IntegrationRecord]:
        with self._db.read() as conn:
            return integration_rows.list_all(conn)

    def delete_integration(self, name: str) -> None:
        with self._db.write() as conn:
            integration_rows.delete(conn, name)

    # -- API tokens (store/tokens.py) ------------------------------------------------------
    def create_token(
        self, name: str, token_hash: str, now: datetime, kind: str = tokens.API
    ) -> tokens.TokenRecord:
        with self._db.write() as conn:
            return tokens.insert(conn, name, token_hash, now, kind)

    def list_tokens(self) -> list[tokens.TokenRecord]:
        with self._db.read() as conn:
            return tokens.list_all(conn)

    def get_token(self, token_id: str) -> tokens.TokenRecord:
        with self._db.read() as conn:
            return tokens.by_id(conn, token_id)

    def revoke_token(self, token_id: str, now: datetime) -> tokens.TokenRecord:
        with self._db.write() as conn:
            return tokens.revoke(conn, token_id, now)

    def active_token(self, token_hash: str) -> tokens.TokenRecord | None:
        with self._db.read() as conn:
            return tokens.active_by_hash(conn, token_hash)

    def touch_token(self, token_id: str, now: datetime) -> None:
        with self._db.write() as conn:
            tokens.touch(conn, token_id, now)

    # -- secrets for canvases (store/secret_rows.py) and retention (store/retention.py) ----
    def put_secret(
        self, name: str, value_encrypted: str, now: datetime
    ) -> secret_rows.SecretRecord:
        with self._db.write() as conn:
            return secret_rows.put(conn, name, value_encrypted, now)

    def list_secrets(self) -> list[secret_rows.SecretRecord]:
        with self._db.read() as conn:
            return secret_rows.list_all(conn)

    def delete_secret(self, name: str) -> None:
        with self._db.write() as conn:
            secret_rows.delete(conn, name)

    def secrets_encrypted(self) -> dict[str, str]:
        with self._db.read() as conn:
            return secret_rows.all_encrypted(conn)

    def prune_batch(
        self, runs_before: datetime, deliveries_before: datetime, limit: int,
        sessions_before: datetime | None = None,
    ) -> retention.Pruned:
        """One short transaction: up to ``limit`` finished runs and ``limit`` deliveries."""
        with self._db.write() as conn:
            return retention.Pruned(
                runs=retention.prune_runs_batch(conn, runs_before, limit),
                deliveries=retention.prune_deliveries_batch(conn, deliveries_before, limit),
                sessions=tokens.prune_sessions_batch(
                    conn, sessions_before or deliveries_before, limit),
                created_objects=guards.prune_batch(conn, runs_before, limit),
                schedule_fires=retention.prune_schedule_fires_batch(conn, runs_before, limit),
            )

    # -- which nodes are schedules (the store's own node type) ------------------------------
    def _schedule_nodes(self, canvas: Canvas) -> list[Node]:
        return [n for n in canvas.nodes if n.type == schedule_rows.SCHEDULE_TYPE]
