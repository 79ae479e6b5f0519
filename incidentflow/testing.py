"""What tests of incidentflow, and of code built on it, need: ``InMemoryStore``, the
``Store`` port in memory, with the SQL store's behaviour (tests/store runs the same
suite on memory, SQLite and PostgreSQL)."""

from __future__ import annotations

from incidentflow.store.memory import InMemoryStore
from incidentflow.store.port import Store

__all__ = ["InMemoryStore"]


def _is_a_store(store: InMemoryStore) -> Store:
    """Never called: ``mypy`` fails here when a port method is missing from memory."""
    return store
