"""``SqlBase``: what every room of the SQL store shares — the database
(``store.database``: engine, read and write transactions, the group-commit writer),
the worker attached in this process (``store.handoff``) and who is woken when work is
committed — and the worker's plumbing of the port (``WorkerPlumbing``).

Work-creating commits call ``on_work`` after the commit, so an in-process worker wakes
at once (see ``engine.wakeup``), and on PostgreSQL send ``NOTIFY`` in the
transaction, so workers elsewhere wake too (``store.notify``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from incidentflow.store.database import Database
from incidentflow.store.handoff import Handoff, LocalWorker
from incidentflow.store.loop_bridge import on_loop
from incidentflow.store.notify import WorkListener, notify_workers
from incidentflow.store.writer import Hooks


class SqlBase:
    def __init__(self, database_url: str, *, on_work: Callable[[], None] | None = None,
                 sqlite_synchronous: str = "FULL"):
        """``on_work`` is called after every commit that made executions due."""
        self._db = Database(database_url, sqlite_synchronous)
        self.on_work = on_work
        self._attached: LocalWorker | None = None  # as given to ``attach_worker``
        self._local_worker: LocalWorker | None = None  # what hand-overs go to
        self._db.writer.hooks = Hooks(
            before_commit=None if self._db.is_sqlite else notify_workers,
            after_commit=self._notify,
        )

    def attach_worker(self, worker: LocalWorker) -> None:
        """New executions may be leased to ``worker`` as they are enqueued
        (``store.handoff``); one worker per store. Attached from an event loop, it is
        handed them on that loop (``store.loop_bridge.on_loop``)."""
        self._attached, self._local_worker = worker, on_loop(worker)

    def detach_worker(self, worker: LocalWorker) -> None:
        if self._attached is worker:
            self._attached = self._local_worker = None

    def wake_on_work(self, callback: Callable[[], None] | None) -> None:
        self.on_work = callback

    def listen_for_work(
        self, on_notify: Callable[[], None], on_due: Callable[[datetime], None] | None = None,
    ) -> WorkListener | None:
        """PostgreSQL: a started LISTEN thread calling ``on_notify`` when another process
        commits work, ``on_due(when)`` when it queued work for later (stop it with
        ``.stop()``). SQLite: None (poll fallback)."""
        if self._db.is_sqlite:
            return None
        return WorkListener(self._db.engine.url, on_notify, on_due).start()

    def _handoff(self, now: datetime) -> Handoff | None:
        worker = self._local_worker
        return Handoff(worker, now) if worker is not None else None

    def _notify(self) -> None:
        if self.on_work is not None:
            self.on_work()
