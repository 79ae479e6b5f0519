"""``{{ secrets.NAME }}`` in the worker (SQLite and PostgreSQL): the component gets the
value; what is stored (resolved configuration, errors, emitted events) gets the mask;
only nodes that read secrets cost a query."""

from __future__ import annotations

from typing import Any

import engine_fixtures
import pytest
from engine_fixtures import BOX, NOW, chain
from toys import Call

from incidentflow.canvas import Node
from incidentflow.crypto import MASK
from incidentflow.engine.router import first_executions
from incidentflow.events import Event
from incidentflow.registry import Registry
from incidentflow.testing import InMemoryStore

START = Event("start.manual", {"who": "alice"}, "2026-03-01T12:00:00Z")
VALUE = "engine-secret-value-7f3a"


_ENGINE_REGISTRY = engine_fixtures.registry


def registry() -> Registry:
    found = _ENGINE_REGISTRY()
    found.add_component(Call())
    return found


@pytest.fixture
def test_registry() -> Registry:
    return registry()


@pytest.fixture(autouse=True)
def with_call(monkeypatch: pytest.MonkeyPatch) -> None:
    Call.seen.clear()
    monkeypatch.setattr(engine_fixtures, "registry", registry)  # workers.make() uses it


def start(store: Any, *steps: Node) -> str:
    canvas = chain("c", *steps)
    store.save_canvas(canvas, "", [], NOW)
    return str(store.start_run("c", "Start", START, first_executions(canvas, "Start", START), NOW))


CALL = Node("Call", "t.call", {
    "url": "https://pager.example/v1?token={{ secrets.PAGER_TOKEN }}",
    "headers": {"Authorization": "Bearer {{ secrets.PAGER_TOKEN }}"},
})


async def test_the_component_gets_the_value_and_the_store_gets_the_mask(store, workers):
    store.put_secret("PAGER_TOKEN", BOX.encrypt(VALUE), NOW)
    run_id = start(store, CALL, Node("Next", "t.echo", {"message": "{{ previous.data.echo.url }}"}))
    assert await workers.make().drain() == 2
    assert Call.seen == [{"url": f"https://pager.example/v1?token={VALUE}",
                          "headers": {"Authorization": f"Bearer {VALUE}"}}]
    call, after = store.get_run(run_id).executions
    assert call.state == "succeeded"
    assert call.resolved_config == {"url": f"https://pager.example/v1?token={MASK}",
                                    "headers": {"Authorization": f"Bearer {MASK}"}}
    assert call.emitted[0]["event"]["data"]["echo"] == call.resolved_config
    assert after.input.data["echo"]["url"].endswith(f"token={MASK}")
    assert VALUE not in repr(store.get_run(run_id))


async def test_an_unknown_secret_fails_at_once_naming_node_field_and_secret(store, workers):
    run_id = start(store, CALL)
    await workers.make().drain()
    [execution] = store.get_run(run_id).executions
    assert (execution.state, execution.attempts) == ("failed", 1)
    assert execution.error.startswith("Call.url: secret 'PAGER_TOKEN' is not set")
    assert execution.error_details == {"node": "Call", "field": "url"}
    assert Call.seen == []


async def test_error_messages_and_details_are_masked(store, workers):
    store.put_secret("PAGER_TOKEN", BOX.encrypt(VALUE), NOW)
    failing = Node("Call", "t.call", {"url": "https://fail.example/?t={{ secrets.PAGER_TOKEN }}"})
    run_id = start(store, failing)
    await workers.make().drain()
    [execution] = store.get_run(run_id).executions
    assert execution.state == "queued"  # retried later, the error kept meanwhile
    assert execution.error == f"GET https://fail.example/?t={MASK} timed out"
    assert execution.error_details == {"url": f"https://fail.example/?t={MASK}"}


async def test_an_expression_error_quoting_the_value_is_masked(store, workers):
    store.put_secret("PAGER_TOKEN", BOX.encrypt(VALUE), NOW)
    run_id = start(store, Node("Call", "t.call", {"url": "{{ secrets.PAGER_TOKEN.nope }}"}))
    await workers.make().drain()
    [execution] = store.get_run(run_id).executions
    assert execution.state == "failed" and "has no field 'nope'" in execution.error
    assert VALUE[:12] not in execution.error and MASK in execution.error


class SecretReadsCounted(InMemoryStore):
    """The store in memory, counting reads of the secrets' ciphertexts."""

    def __init__(self, registry: Registry):
        super().__init__(registry)
        self.reads = 0

    def secrets_encrypted(self) -> dict[str, str]:
        self.reads += 1
        return super().secrets_encrypted()


async def test_only_nodes_that_read_secrets_read_them_and_briefly_cached(
        workers, test_registry):
    store = workers.store = SecretReadsCounted(test_registry)
    store.put_secret("PAGER_TOKEN", BOX.encrypt(VALUE), NOW)
    worker = workers.make()
    start(store, Node("Plain", "t.echo", {"message": "hi {{ root.data.who }}"}))
    await worker.drain()
    assert store.reads == 0
    start(store, CALL)
    start(store, CALL)
    await worker.drain()
    assert store.reads == 1  # two executions at once, one read (single flight), then cached


async def test_a_replaced_value_is_used_once_the_cache_expires(store, workers):
    store.put_secret("PAGER_TOKEN", BOX.encrypt("first-value-xyz"), NOW)
    worker = workers.make()
    start(store, CALL)
    await worker.drain()
    store.put_secret("PAGER_TOKEN", BOX.encrypt("second-value-xyz"), NOW)
    worker._runner._secrets.seconds = 0.0
    worker._runner._secrets._expires = 0.0
    start(store, CALL)
    await worker.drain()
    assert [seen["headers"]["Authorization"] for seen in Call.seen] == [
        "Bearer first-value-xyz", "Bearer second-value-xyz"]
