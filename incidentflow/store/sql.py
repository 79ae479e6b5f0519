"""``SqlStore``: the ``Store`` port on SQLAlchemy Core, for SQLite and PostgreSQL.

Every public method is one transaction. Work-creating commits call ``on_work`` after
the commit, so an in-process worker wakes at once (see ``engine.wakeup``), and on
PostgreSQL send ``NOTIFY`` in the transaction, so workers elsewhere wake too
(``store.notify``).

The hot paths (``accept_delivery``, ``start_run``, ``claim``, ``finish``,
``retry_later``, ``fail``, ``release``, ``extend_leases``) go through the group-commit
writer (``store.writer``): concurrent calls share one transaction and one fsync, and
each returns only after that commit. New executions may be leased straight to the
worker of this process (``store.handoff``, ``attach_worker``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import WebhookTrigger
from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store import (  # +tables
    accepts,
    guards,
    history,
    node_limits,
    pauses,
    queue,
    retention,
    secret_rows,
    tokens,
)
from incidentflow.store import endpoints as endpoint_rows
from incidentflow.store import schedules as schedule_rows
from incidentflow.store.accepts import Accept, accept_many, accept_one
from incidentflow.store.codec import canvas_from_spec, canvas_to_spec, spec_hash
from incidentflow.store.database import Database
from incidentflow.store.finishes import Finish, finish_many
from incidentflow.store.handoff import Handoff, LocalWorker, RunContext
from incidentflow.store.notify import WorkListener, notify_workers
from incidentflow.store.port import (
    Admission,
    CanvasRecord,
    CanvasSummary,
    ClaimedExecution,
    DeliveryRecord,
    DeliveryResult,
    Emitted,
    Endpoint,
    IntegrationRecord,
    NewExecution,
    NodeLimitState,
    NodeResumed,
    Resumed,
    RunRecord,
    SavedCanvas,
    SelfCreated,
)
from incidentflow.store.schema import (
    canvas_versions,
    canvases,
    integrations,
    runs,
)
from incidentflow.store.writer import Hooks, waited

if TYPE_CHECKING:
    from incidentflow.registry import Registry


class _Finishes:
    """The writer's group of ``finish`` jobs (``store.writer.Group``)."""

    def run_many(self, conn: Connection, payloads: list[Finish]) -> list[bool]:
        return finish_many(conn, payloads)


_FINISHES = _Finishes()


class _Accepts:
    """The writer's group of ``accept_delivery`` jobs (``store.writer.Group``)."""

    def run_many(self, conn: Connection, payloads: list[Accept]) -> list[DeliveryResult]:
        return accept_many(conn, payloads)


_ACCEPTS = _Accepts()


class SqlStore:
    def __init__(
        self,
        database_url: str,
        registry: Registry | None = None,
        *,
        on_work: Callable[[], None] | None = None,
        sqlite_synchronous: str = "FULL",
    ):
        """``registry`` tells which node types are webhook triggers and which are
        triggers at all (default: ``default_registry()``, loaded on first need).
        ``on_work`` is called after every commit that made executions due."""
        self._db = Database(database_url, sqlite_synchronous)
        self._registry = registry
        self.on_work = on_work
        self._local_worker: LocalWorker | None = None
        self._db.writer.hooks = Hooks(
            before_commit=None if self._db.is_sqlite else notify_workers,
            after_commit=self._notify,
        )

    # -- schema ------------------------------------------------------------------------
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

    # -- canvases ----------------------------------------------------------------------
    def save_canvas(
        self, canvas: Canvas, source: str, warnings: list[dict[str, Any]], now: datetime
    ) -> SavedCanvas:
        spec = canvas_to_spec(canvas)
        digest = spec_hash(spec)
        with self._db.write() as conn:
            current = conn.execute(
                sa.select(canvases.c.current_version, canvas_versions.c.content_hash)
                .join(canvas_versions, sa.and_(
                    canvas_versions.c.canvas == canvases.c.name,
                    canvas_versions.c.version == canvases.c.current_version,
                ))
                .where(canvases.c.name == canvas.name)
            ).first()
            if current is not None and current.content_hash == digest:
                return SavedCanvas(canvas.name, current.current_version, created=False)
            version = 1 if current is None else current.current_version + 1
            _upsert_canvas(conn, canvas.name, version, now)
            conn.execute(
                canvas_versions.insert().values(
                    canvas=canvas.name, version=version, spec=spec, source=source,
                    content_hash=digest, warnings=warnings, created_at=now,
                )
            )
            endpoint_rows.sync(conn, canvas.name, self._webhook_nodes(canvas), now)
            schedule_rows.sync(conn, canvas.name, self._schedule_nodes(canvas), now)
        return SavedCanvas(canvas.name, version, created=True)

    def get_canvas(self, name: str, version: int | None = None) -> CanvasRecord:
        with self._db.read() as conn:
            head = conn.execute(sa.select(canvases).where(canvases.c.name == name)).first()
            if head is None:
                raise NotFound(f"canvas {name!r} does not exist")
            wanted = head.current_version if version is None else version
            row = conn.execute(
                sa.select(canvas_versions).where(
                    canvas_versions.c.canvas == name, canvas_versions.c.version == wanted
                )
            ).first()
        if row is None:
            raise NotFound(f"canvas {name!r} has no version {wanted}")
        return CanvasRecord(
            name=name, version=wanted, canvas=canvas_from_spec(row.spec), source=row.source,
            created_at=head.created_at, updated_at=head.updated_at, warnings=row.warnings,
            paused_at=head.paused_at,
        )

    def list_canvases(self) -> list[CanvasSummary]:
        with self._db.read() as conn:
            heads = conn.execute(
                sa.select(canvases, canvas_versions.c.spec)
                .join(canvas_versions, sa.and_(
                    canvas_versions.c.canvas == canvases.c.name,
                    canvas_versions.c.version == canvases.c.current_version,
                ))
                .order_by(canvases.c.name)
            ).all()
            return [self._summary(conn, head) for head in heads]

    def _summary(self, conn: Connection, head: Any) -> CanvasSummary:
        last = conn.execute(
            sa.select(runs.c.id, runs.c.state, runs.c.created_at)
            .where(runs.c.canvas == head.name)
            .order_by(runs.c.id.desc())
            .limit(1)
        ).first()
        return CanvasSummary(
            name=head.name, version=head.current_version, updated_at=head.updated_at,
            triggers=self._trigger_nodes(canvas_from_spec(head.spec)),
            last_run_id=last.id if last else None,
            last_run_state=last.state if last else None,
            last_run_at=last.created_at if last else None,
            paused_at=head.paused_at,
        )

    def delete_canvas(self, name: str) -> None:
        with self._db.write() as conn:
            gone = conn.execute(canvases.delete().where(canvases.c.name == name)).rowcount
        if not gone:
            raise NotFound(f"canvas {name!r} does not exist")

    # -- webhook endpoints ---------------------------------------------------------------
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

    # -- deliveries and runs -------------------------------------------------------------
    def accept_delivery(
        self,
        endpoint_id: str,
        webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]],
        now: datetime,
        reason: str = "",
    ) -> DeliveryResult:
        # Group commit (store.writer): concurrent deliveries share one transaction and
        # one fsync; answered only after the commit.
        result: DeliveryResult = waited(
            partial(self.accept_delivery_then, reason=reason),
            endpoint_id, webhook_id, events, now)
        return result

    def accept_delivery_then(
        self,
        endpoint_id: str,
        webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]],
        now: datetime,
        then: Callable[[DeliveryResult | None, BaseException | None], None],
        reason: str = "",
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
            lambda result: result.outcome == "accepted" and _left_queued(handoff, enqueued),
            after=handoff.settle if handoff else None,
            # Grouped: the batch's deliveries are recorded set-based (store.accepts).
            group=_ACCEPTS, payload=item,
        )

    def record_rejection(self, endpoint_id: str, reason: str, now: datetime) -> None:
        # Through the writer: a flood of bad signatures is batched too.
        reject = partial(accepts.reject, endpoint_id=endpoint_id, reason=reason, now=now)
        self._db.writer.submit(reject).result()

    def recent_deliveries(self, endpoint_id: str, limit: int = 20) -> list[DeliveryRecord]:
        with self._db.read() as conn:
            return history.recent_deliveries(conn, endpoint_id, limit)

    # -- pause and resume (store/pauses.py) -----------------------------------------------
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

    # -- self-trigger guard (store/guards.py) ----------------------------------------------
    def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime
    ) -> None:
        begin = partial(guards.begin, canvas=canvas, kind=kind, execution_id=execution_id,
                        run_id=run_id, now=now)
        # Not durable (no fsync of its own, as claim): it must be visible to the
        # receiver before the call goes out, which the commit gives; a machine crash
        # loses at most this hint, for a call that never got its answer either.
        self._db.writer.submit(begin, durable=False).result()

    def forget_create(self, execution_id: str) -> None:
        forget = partial(guards.forget, execution_id=execution_id)
        self._db.writer.submit(forget, durable=False).result()

    def self_created(
        self, canvas: str, kinds: frozenset[str], object_id: str, live_since: datetime
    ) -> SelfCreated:
        with self._db.read() as conn:
            return guards.lookup(conn, canvas, kinds, object_id, live_since)

    def start_run(
        self, canvas: str, node: str, event: Event, first: list[NewExecution], now: datetime
    ) -> str:
        handoff = self._handoff(now)

        def start(conn: Connection) -> str:
            if handoff is not None:
                handoff.reset()
            version = _current_version(conn, canvas)
            return queue.insert_run(conn, canvas, version, node, event, first, now,
                                    handoff=handoff)

        return self._db.writer.submit(
            start, lambda _: _left_queued(handoff, len(first)),
            after=handoff.settle if handoff else None,
        ).result()

    # -- schedule triggers (store/schedules.py) -----------------------------------------
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
            version = _current_version(conn, canvas)
            run_id = queue.insert_run(conn, canvas, version, node, event, first, now,
                                      handoff=handoff)
            schedule_rows.note(conn, canvas, node, due, schedule_rows.FIRED, run_id, now)
            return run_id

        return self._db.writer.submit(
            fire, lambda run_id: run_id is not None and _left_queued(handoff, len(first)),
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

    def list_runs(self, canvas: str, limit: int = 50) -> list[RunRecord]:
        with self._db.read() as conn:
            return history.list_runs(conn, canvas, limit)

    def get_run(self, run_id: str) -> RunRecord:
        with self._db.read() as conn:
            return history.get_run(conn, run_id)

    # -- executions ----------------------------------------------------------------------
    def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        claimed: list[ClaimedExecution] = waited(
            self.claim_then, worker_id, now, lease_seconds, limit)
        return claimed

    def claim_then(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int,
        then: Callable[[list[ClaimedExecution] | None, BaseException | None], None],
    ) -> None:
        """``claim`` without blocking (see ``finish_then``)."""
        if limit < 1:
            then([], None)
            return
        claim = partial(queue.claim, worker_id=worker_id, now=now,
                        lease_seconds=lease_seconds, limit=limit)
        self._db.writer.submit_then(claim, then, durable=False)

    def finish(
        self,
        execution_id: str,
        worker_id: str,
        resolved_config: dict[str, Any] | None,
        emitted: list[Emitted],
        now: datetime,
        origin: ClaimedExecution | None = None,
    ) -> bool:
        """``origin`` (the finished execution as claimed) lets its downstream executions
        be handed to the local worker (``store.handoff``) without another query."""
        done: bool = waited(
            self.finish_then, execution_id, worker_id, resolved_config, emitted, now, origin)
        return done

    def finish_then(
        self,
        execution_id: str,
        worker_id: str,
        resolved_config: dict[str, Any] | None,
        emitted: list[Emitted],
        now: datetime,
        origin: ClaimedExecution | None,
        then: Callable[[bool | None, BaseException | None], None],
    ) -> None:
        """``finish`` without blocking: ``then(recorded, error)`` is called (in the
        writer thread) once it is committed. For the worker's event loop, which must
        not wait in a thread."""
        enqueued = sum(len(item.downstream) for item in emitted)
        handoff = self._handoff(now) if origin is not None and enqueued else None
        run = None
        if origin is not None:
            run = RunContext(origin.run_id, origin.canvas, origin.canvas_version, origin.root)
        item = Finish(execution_id, worker_id, resolved_config, emitted, now, handoff, run)

        def finish(conn: Connection) -> bool:  # alone, when its batch is redone
            return finish_many(conn, [item])[0]

        # Grouped: the batch's finishes are recorded set-based (store.finishes).
        self._db.writer.submit_then(
            finish, then, lambda done: done and _left_queued(handoff, enqueued),
            after=handoff.settle if handoff else None, group=_FINISHES, payload=item,
        )

    def retry_later(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        next_attempt_at: datetime,
        now: datetime,
    ) -> bool:
        retry = partial(queue.retry_later, execution_id=execution_id, worker_id=worker_id,
                        error=error, details=details, resolved_config=resolved_config,
                        next_attempt_at=next_attempt_at)
        return self._db.writer.submit(retry).result()

    def fail(
        self,
        execution_id: str,
        worker_id: str,
        error: str,
        details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None,
        now: datetime,
    ) -> bool:
        fail = partial(queue.fail, execution_id=execution_id, worker_id=worker_id, error=error,
                       details=details, resolved_config=resolved_config, now=now)
        return self._db.writer.submit(fail).result()

    def release(self, worker_id: str, now: datetime) -> int:
        release = partial(queue.release, worker_id=worker_id, now=now)
        return self._db.writer.submit(release, lambda released: released > 0).result()

    def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float
    ) -> int:
        """Heartbeat: push the lease of these still-running executions forward; returns
        how many this worker still held (a lost one is not extended)."""
        extend = partial(queue.extend_leases, worker_id=worker_id, ids=execution_ids,
                         now=now, lease_seconds=lease_seconds)
        return self._db.writer.submit(extend, durable=False).result()

    def attach_worker(self, worker: LocalWorker) -> None:
        """New executions may be leased to ``worker`` as they are enqueued
        (``store.handoff``); one worker per store."""
        self._local_worker = worker

    def detach_worker(self, worker: LocalWorker) -> None:
        if self._local_worker is worker:
            self._local_worker = None

    def wake_on_work(self, callback: Callable[[], None] | None) -> None:
        self.on_work = callback

    def _handoff(self, now: datetime) -> Handoff | None:
        worker = self._local_worker
        return Handoff(worker, now) if worker is not None else None

    def listen_for_work(
        self, on_notify: Callable[[], None],
        on_due: Callable[[datetime], None] | None = None,
    ) -> WorkListener | None:
        """PostgreSQL: a started LISTEN thread calling ``on_notify`` when another process
        commits work, ``on_due(when)`` when it queued work for later (stop it with
        ``.stop()``). SQLite: None (poll fallback)."""
        if self._db.is_sqlite:
            return None
        return WorkListener(self._db.engine.url, on_notify, on_due).start()

    def next_due(self, now: datetime) -> datetime | None:
        with self._db.read() as conn:
            return queue.next_due(conn, now)

    def node_events(self, run_id: str) -> dict[str, Event]:
        with self._db.read() as conn:
            return queue.node_events(conn, run_id)

    def queue_depth(self, now: datetime) -> int:
        with self._db.read() as conn:
            return queue.queue_depth(conn, now)

    # -- the create rate limit (store/node_limits.py) ------------------------------------
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
        take = partial(node_limits.take_slot, execution_id=execution_id, worker_id=worker_id,
                       canvas=canvas, node=node, limit=limit,
                       resolved_config=resolved_config, now=now)
        # Not durable (no fsync of its own on SQLite): a slot lost in a power cut was
        # never used, and the execution, whose lease then expires, asks again.
        return self._db.writer.submit(take, durable=False).result()

    def node_limits(self, canvas: str | None = None) -> list[NodeLimitState]:
        with self._db.read() as conn:
            return node_limits.states(conn, canvas)

    def resume_node(self, canvas: str, node: str, release: bool, now: datetime) -> NodeResumed:
        def resume(conn: Connection) -> NodeResumed:
            _current_version(conn, canvas)  # NotFound for an unknown canvas
            return node_limits.resume(conn, canvas, node, release, now)

        # Released executions are queued again: wake the workers (NOTIFY elsewhere).
        return self._db.writer.submit(resume, lambda done: done.released > 0).result()

    # -- integrations --------------------------------------------------------------------
    def put_integration(
        self,
        name: str,
        type_: str,
        config: dict[str, Any],
        secrets_encrypted: dict[str, str],
        status: str,
        reason: str,
        now: datetime,
    ) -> IntegrationRecord:
        values = {
            "type": type_, "config": config, "secrets_enc": secrets_encrypted,
            "status": status, "reason": reason, "updated_at": now,
        }
        with self._db.write() as conn:
            changed = conn.execute(
                integrations.update().where(integrations.c.name == name).values(**values)
            ).rowcount
            if not changed:
                conn.execute(integrations.insert().values(name=name, created_at=now, **values))
            return _integration(conn, name)

    def get_integration(self, name: str) -> IntegrationRecord:
        with self._db.read() as conn:
            return _integration(conn, name)

    def list_integrations(self) -> list[IntegrationRecord]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(integrations).order_by(integrations.c.name))
            return [_integration_record(row) for row in rows]

    def delete_integration(self, name: str) -> None:
        with self._db.write() as conn:
            gone = conn.execute(integrations.delete().where(integrations.c.name == name))
        if not gone.rowcount:
            raise NotFound(f"integration {name!r} does not exist")

    # -- helpers -------------------------------------------------------------------------
    def _notify(self) -> None:
        if self.on_work is not None:
            self.on_work()

    def _registry_now(self) -> Registry:
        if self._registry is None:
            from incidentflow.registry import default_registry

            self._registry = default_registry()
        return self._registry

    def _webhook_nodes(self, canvas: Canvas) -> list[str]:
        components = self._registry_now().components
        return [
            n.name for n in canvas.nodes if isinstance(components.get(n.type), WebhookTrigger)
        ]

    def _schedule_nodes(self, canvas: Canvas) -> list[Node]:
        return [n for n in canvas.nodes if n.type == schedule_rows.SCHEDULE_TYPE]

    def _trigger_nodes(self, canvas: Canvas) -> list[str]:
        components = self._registry_now().components
        return [
            n.name
            for n in canvas.nodes
            if n.type in components and components[n.type].role == "trigger"
        ]

    # -- API tokens (store/tokens.py) and retention (store/retention.py) ---------------
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

    # -- secrets for canvases (store/secret_rows.py) -----------------------------------
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
            )

def _upsert_canvas(conn: Connection, name: str, version: int, now: datetime) -> None:
    changed = conn.execute(
        canvases.update()
        .where(canvases.c.name == name)
        .values(current_version=version, updated_at=now)
    ).rowcount
    if not changed:
        conn.execute(
            canvases.insert().values(
                name=name, current_version=version, created_at=now, updated_at=now
            )
        )


def _current_version(conn: Connection, canvas: str) -> int:
    version = conn.scalar(sa.select(canvases.c.current_version).where(canvases.c.name == canvas))
    if version is None:
        raise NotFound(f"canvas {canvas!r} does not exist")
    return int(version)


def _left_queued(handoff: Handoff | None, enqueued: int) -> bool:
    """Whether a job that enqueued ``enqueued`` executions left any of them queued for
    a claim (and so must wake workers: NOTIFY on PostgreSQL). Evaluated before the
    commit, when ``handoff`` holds what this attempt leased to the local worker; work
    handed over needs no wakeup, and waking every worker for it cost each a claim
    that found nothing."""
    leased = len(handoff.jobs) if handoff is not None else 0
    return enqueued > leased


def _integration(conn: Connection, name: str) -> IntegrationRecord:
    row = conn.execute(sa.select(integrations).where(integrations.c.name == name)).first()
    if row is None:
        raise NotFound(f"integration {name!r} does not exist")
    return _integration_record(row)


def _integration_record(row: Any) -> IntegrationRecord:
    return IntegrationRecord(
        name=row.name, type=row.type, config=row.config, secrets_encrypted=row.secrets_enc,
        status=row.status, reason=row.reason, created_at=row.created_at,
        updated_at=row.updated_at,
    )
