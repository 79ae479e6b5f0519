"""The migrations produce exactly the schema the SQLAlchemy metadata describes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from incidentflow.store.schema import metadata


def test_migrated_schema_matches_metadata(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrate_twice_is_harmless(store):
    store.migrate()
    with store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"canvases", "executions", "deliveries", "alembic_version"} <= tables


def test_sqlite_runs_in_wal_with_full_sync(tmp_path):
    from incidentflow.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()
