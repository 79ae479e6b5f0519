"""One SQLAlchemy engine, tuned per database, with explicit read and write transactions.

SQLite: WAL (readers never wait for the writer), ``synchronous=FULL`` by default (a
committed delivery survives a power cut), foreign keys on, a busy timeout. Writes
take the write lock (``store/write_lock.py``: this process's writers, then other
processes', in turn) and start with ``BEGIN IMMEDIATE`` so two writers queue up
instead of failing with "database is locked" half-way through a transaction.
PostgreSQL: default durability; row locks (``FOR UPDATE SKIP LOCKED``) do the rest.

The hot paths (deliveries, claims, finishes) do not open their own transactions: they
go through ``Database.writer`` (``store.writer``), which runs concurrent ones in one
transaction and one commit. A batch of claims only (``durable=False``) commits without
an fsync on SQLite: a lost claim is a lease that never existed, and the execution is
simply claimed again; the next durable commit flushes the WAL, claims included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from incidentflow.errors import ConfigurationError
from incidentflow.store import json_codec
from incidentflow.store.driver_errors import store_errors
from incidentflow.store.write_lock import WriteLock
from incidentflow.store.writer import GroupCommitWriter

MIGRATIONS = Path(__file__).parent / "migrations"
_WRITE = "incidentflow_write"


class Database:
    def __init__(self, url: str, sqlite_synchronous: str = "FULL"):
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise ConfigurationError(f"invalid database URL: {exc}") from exc
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(parsed, sqlite_synchronous)
        elif parsed.get_backend_name() == "postgresql":
            self.engine = sa.create_engine(
                parsed, pool_size=10, max_overflow=10, pool_pre_ping=True,
                json_serializer=json_codec.dumps, json_deserializer=json_codec.loads,
            )
        else:
            raise ConfigurationError(
                f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// "
                "or postgresql+psycopg://"
            )
        self._write_lock = WriteLock(sqlite_file(parsed)) if self.is_sqlite else None
        self._synchronous = sqlite_synchronous.upper()
        self.writer = GroupCommitWriter(self._batch_transaction)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that writes; commits on success, rolls back on error."""
        with store_errors(), self._writing(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _batch_transaction(self, durable: bool) -> Iterator[Connection]:
        """The writer's transaction; on SQLite without an fsync when not ``durable``."""
        relax = self.is_sqlite and not durable and self._synchronous in ("FULL", "EXTRA")
        with self._writing(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            if relax:  # SQLite refuses to change it inside a transaction
                _sqlite_pragma(conn, "synchronous=NORMAL")
            try:
                with conn.begin():
                    yield conn
            finally:
                if relax:
                    _sqlite_pragma(conn, f"synchronous={self._synchronous}")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with store_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def migrate(self) -> None:
        # Imported here: Alembic is ~9 MB that a process which never migrates (serve's,
        # whose migration runs in a child that exits) need not hold.
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._writing(), self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def close(self) -> None:
        self.writer.close()
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()

    def _writing(self) -> AbstractContextManager[None]:
        """SQLite: the write lock (store/write_lock.py), before ``BEGIN IMMEDIATE``."""
        return self._write_lock.held() if self._write_lock is not None else nullcontext()


def sqlite_file(url: sa.URL) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database (which no
    other connection, let alone process, shares)."""
    name = url.database or ""
    if not name or name == ":memory:" or name.startswith("file::memory:"):
        return None
    return Path(name)


def shared_between_processes(database_url: str) -> bool:
    """Whether another process opening ``database_url`` sees the same database."""
    url = sa.make_url(database_url)
    return not url.drivername.startswith("sqlite") or sqlite_file(url) is not None


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    conn.connection.dbapi_connection.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]


def _sqlite_engine(url: sa.URL, synchronous: str) -> Engine:
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ConfigurationError(f"invalid SQLite synchronous mode {synchronous!r}")
    engine = sa.create_engine(url, connect_args={"check_same_thread": False},
                              json_serializer=json_codec.dumps,
                              json_deserializer=json_codec.loads)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={synchronous.upper()}",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
