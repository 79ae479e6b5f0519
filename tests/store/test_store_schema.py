"""The migrations produce exactly the schema the SQLAlchemy metadata describes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from incidentflow.registry import default_registry
from incidentflow.store.schema import metadata


@pytest.fixture
def store(sql_store):
    """About SQL itself: SQLite and PostgreSQL only."""
    return sql_store


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

    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}", default_registry())
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_0004_marks_session_rows_written_before_it(tmp_path):
    """Sessions were once known by their name; the upgrade gives them their kind."""
    from alembic import command
    from alembic.config import Config

    from incidentflow.store.database import MIGRATIONS

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        for token_id, name in (("t1", "browser session · admin"), ("t2", "ci")):
            conn.execute(sa.text(
                "INSERT INTO api_tokens (id, name, token_hash, created_at) "
                "VALUES (:id, :name, :hash, '2026-01-01 00:00:00')"),
                {"id": token_id, "name": name, "hash": token_id * 8})
        command.upgrade(config, "head")
        kinds = dict(conn.execute(sa.text("SELECT id, kind FROM api_tokens")).all())
    assert kinds == {"t1": "session", "t2": "api"}
