"""``SqlStore``: the ``Store`` port on SQLAlchemy Core, for SQLite and PostgreSQL.

A thin facade composed of its rooms, each a class of a handful of methods handing
one SQL function to a read or write transaction, or to the group-commit writer
(``store.writer``): canvases, endpoints, deliveries and pauses ``store.sql_canvases``;
runs, schedules and the catch-up poll ``store.sql_runs``; integrations, tokens,
secrets and retention ``store.sql_admin``; the waiting steps ``store.sql_waits``; the
engine's half ``store.sql_work``, on the hot path's writer jobs
``store.sql_hot_writes``; the database and the worker's plumbing ``store.sql_base``.

Its async face (``aio``, ``store.sql_async``) answers the hot path from the writer
thread on the caller's event loop (``store.loop_bridge``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from incidentflow.store.async_port import AsyncStore
from incidentflow.store.outcome_meter import OutcomeMeter
from incidentflow.store.sql_admin import SqlAdmin
from incidentflow.store.sql_async import SqlAsyncStore
from incidentflow.store.sql_canvases import SqlCanvases
from incidentflow.store.sql_runs import SqlRuns
from incidentflow.store.sql_waits import SqlWaits

if TYPE_CHECKING:
    from incidentflow.store.node_roles import NodeRoles


class SqlStore(SqlCanvases, SqlRuns, SqlAdmin, SqlWaits):
    def __init__(self, database_url: str, roles: NodeRoles, *,
                 on_work: Callable[[], None] | None = None, sqlite_synchronous: str = "FULL"):
        """``roles`` says which nodes of a canvas get webhook endpoints and which are
        triggers (the registry; the store knows no components).
        ``on_work`` is called after every commit that made executions due."""
        super().__init__(database_url, on_work=on_work, sqlite_synchronous=sqlite_synchronous)
        self._roles = roles

    @property
    def aio(self) -> AsyncStore:
        return self._async_face

    @functools.cached_property
    def _async_face(self) -> SqlAsyncStore:
        return SqlAsyncStore(self)

    def meter_outcomes(self, meter: OutcomeMeter) -> None:
        self._async_face.meter = meter

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
