"""Fresh PostgreSQL databases for proofs that run several processes against one database.

A schema per test (``tests/conftest.py``) is not enough here: ``incidentflow worker``
processes take the URL too, and a whole database is simpler to reason about and drop.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import sqlalchemy as sa


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (query string dropped)."""
    return str(sa.make_url(url).set(database=name, query={}))


@contextlib.contextmanager
def fresh_database(base_url: str, prefix: str = "ifproof") -> Iterator[str]:
    """CREATE DATABASE on the server of ``base_url``; DROP ... WITH (FORCE) afterwards."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    admin = sa.create_engine(with_database(base_url, "postgres"), poolclass=sa.NullPool,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(base_url, name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
