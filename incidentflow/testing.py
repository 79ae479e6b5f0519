"""What tests of incidentflow, and of code built on it, need: ``InMemoryStore``, the
``Store`` port in memory, with the SQL store's behaviour (tests/store runs the same
suite on memory, SQLite and PostgreSQL)."""

from __future__ import annotations

from incidentflow.store.memory import InMemoryStore

__all__ = ["InMemoryStore"]
