"""PostgreSQL LISTEN/NOTIFY: wake worker processes on other hosts when work is committed.

The transaction that makes work due sends ``NOTIFY incidentflow_work`` (PostgreSQL
delivers it only if, and when, that transaction commits). One that enqueues work for
later (the ``wait`` step) sends the time it becomes due as the payload, so every worker
wakes for it on time instead of at its next poll. Each worker process runs one
``WorkListener``: a thread holding a dedicated autocommit connection that LISTENs and
calls ``on_notify`` for each notification. If the connection drops, it reconnects with
backoff; the worker's poll fallback covers the gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)
CHANNEL = "incidentflow_work"
_CHECK_STOP_SECONDS = 1.0
_RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)


def notify_workers(conn: Connection) -> None:
    """Inside the transaction that enqueued work: delivered when it commits."""
    conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


def notify_due(conn: Connection, when: datetime) -> None:
    """Inside the transaction that enqueued work due at ``when`` (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_notify(CHANNEL, when.isoformat())))


def _due_time(payload: str) -> datetime | None:
    try:
        return datetime.fromisoformat(payload)
    except ValueError:
        return None


def libpq_url(url: sa.URL) -> str:
    """The SQLAlchemy URL as a libpq connection URI (query options such as
    ``options=-csearch_path=...`` kept)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class WorkListener:
    def __init__(self, url: sa.URL, on_notify: Callable[[], None],
                 on_due: Callable[[datetime], None] | None = None):
        self._conninfo = libpq_url(url)
        self._on_notify = on_notify
        self._on_due = on_due
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="incidentflow-listen", daemon=True)

    def start(self) -> WorkListener:
        self._thread.start()
        return self

    def wait_listening(self, timeout: float) -> bool:
        """True once the LISTEN is in place (tests, and a clean start-up log)."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=_CHECK_STOP_SECONDS * 3)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as exc:  # a dropped connection: reconnect, never die
                self._listening.clear()
                delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("LISTEN connection failed (%s); retrying in %.1fs",
                            type(exc).__name__, delay)
                self._stop.wait(delay)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._listening.set()
            self._on_notify()  # work committed while we were not listening
            while not self._stop.is_set():
                # Wakes at least every second to see a stop request.
                for notification in conn.notifies(timeout=_CHECK_STOP_SECONDS):
                    self._notified(notification.payload)

    def _notified(self, payload: str) -> None:
        due = _due_time(payload) if payload else None
        if due is not None and self._on_due is not None:
            self._on_due(due)
        else:
            self._on_notify()
