"""The async port mirrors the synchronous one: every ``Store`` operation has an
``AsyncStore`` namesake with the same parameters (names, kinds, defaults, types) and
result, except the worker's plumbing and the schema calls listed here, and each
store's async face implements every operation as a coroutine."""

from __future__ import annotations

import inspect

import pytest

from incidentflow.store.async_port import AsyncStore
from incidentflow.store.port import Store, WorkerPlumbing
from incidentflow.store.sql import SqlStore
from incidentflow.testing import InMemoryStore

# Sync only: the worker's wiring to its store (called once, not awaited on a hot path)
# and the schema's lifecycle; ``aio`` is the async face itself.
SYNC_ONLY = {"attach_worker", "detach_worker", "listen_for_work", "wake_on_work",
             "meter_outcomes", "migrate", "close", "aio"}


def operations(protocol: type) -> dict[str, inspect.Signature]:
    found = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object,) or klass.__module__ == "typing":
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and (callable(value) or isinstance(value, property)):
                found[name] = (inspect.signature(value) if callable(value)
                               else inspect.Signature())
    return found


def test_every_store_operation_has_an_async_namesake_with_the_same_parameters():
    sync, async_ = operations(Store), operations(AsyncStore)
    for name, signature in sync.items():
        if name in SYNC_ONLY:
            continue
        assert name in async_, f"AsyncStore has no {name}"
        assert async_[name] == signature, f"{name}: {async_[name]} != {signature}"
    assert set(async_) == set(sync) - SYNC_ONLY  # and no async operation of its own


def test_the_sync_only_calls_are_the_worker_plumbing_and_the_schema():
    plumbing = set(operations(WorkerPlumbing)) - {"extend_leases"}  # awaited: a heartbeat
    assert plumbing | {"migrate", "close", "aio"} == SYNC_ONLY
    assert set(operations(Store)) >= SYNC_ONLY


@pytest.mark.parametrize("store_class", [InMemoryStore, SqlStore])
def test_each_async_face_implements_every_operation_as_a_coroutine(store_class, test_registry,
                                                                   tmp_path):
    store = (InMemoryStore(test_registry) if store_class is InMemoryStore
             else SqlStore(f"sqlite:///{tmp_path / 'c.db'}", test_registry))
    try:
        face = type(store.aio)
        for name in operations(AsyncStore):
            assert inspect.iscoroutinefunction(getattr(face, name)), name
    finally:
        store.close()
