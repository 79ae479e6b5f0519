"""Storage: the port (``store.port``, ``store.records``) and its SQL implementation.

Code above the store imports only the port, the records, ``open_store`` and
``shared_between_processes`` from here
(tests/core/test_layers.py); the SQL modules are the adapter's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from incidentflow.store.node_roles import NodeRoles
    from incidentflow.store.port import Store


def open_store(database_url: str, roles: NodeRoles, *,
               sqlite_synchronous: str = "FULL") -> Store:
    """The SQL store (SQLite or PostgreSQL) for ``database_url``, not yet migrated.
    ``roles`` (the registry) says which nodes need webhook endpoints; the store knows
    no components. Imported on call, so importing the port never loads SQLAlchemy."""
    from incidentflow.store.sql import SqlStore

    return SqlStore(database_url, roles, sqlite_synchronous=sqlite_synchronous)


def shared_between_processes(database_url: str) -> bool:
    """Whether another process opening ``database_url`` sees the same database (not so
    for an in-memory SQLite one). Imported on call, as ``open_store``."""
    from incidentflow.store.database import shared_between_processes as shared

    return shared(database_url)
