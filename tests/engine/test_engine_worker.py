"""The worker against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from engine_fixtures import BOX, NOW, Echo, chain

from incidentflow.canvas import Edge, Node
from incidentflow.crypto import MASK
from incidentflow.engine.router import first_executions
from incidentflow.errors import StoreUnavailable
from incidentflow.events import Event
from incidentflow.testing import InMemoryStore

START = Event("start.manual", {"who": "alice"}, "2026-03-01T12:00:00Z")


def start(store, canvas) -> str:
    store.save_canvas(canvas, "", [], NOW)
    return store.start_run(
        canvas.name, "Start", START, first_executions(canvas, "Start", START), NOW
    )


async def test_chain_runs_with_expressions_and_masks_secrets(store, workers):
    canvas = chain(
        "c",
        Node("One", "t.echo", {"message": "hi {{ root.data.who }}", "token": "s3cret"}),
        Node("Two", "t.echo", {"message": "{{ nodes['One'].data.message }}!"}),
    )
    run_id = start(store, canvas)
    assert await workers.make().drain() == 2
    run = store.get_run(run_id)
    assert run.state == "succeeded" and run.finished_at == NOW
    one, two = run.executions
    assert one.resolved_config == {"message": "hi alice", "token": MASK}
    assert two.emitted[0]["event"]["data"]["message"] == "hi alice!"
    assert two.input.data["message"] == "hi alice"
    assert (one.attempts, one.idempotency_key) == (1, f"if-{one.id}")


async def test_if_routes_by_channel(store, workers):
    canvas = chain(
        "c",
        Node("If", "t.if", {"expression": "root.data.who == 'alice'"}),
        Node("Yes", "t.echo", {"message": "yes"}),
        Node("No", "t.echo", {"message": "no"}),
        edges=(Edge("Start", "If"), Edge("If", "Yes", "true"), Edge("If", "No", "false")),
    )
    run_id = start(store, canvas)
    await workers.make().drain()
    assert [e.node for e in store.get_run(run_id).executions] == ["If", "Yes"]


async def test_retryable_error_succeeds_on_third_attempt_with_same_key(store, workers):
    from engine_fixtures import Flaky

    run_id = start(store, chain("c", Node("Flaky", "t.flaky", {"succeed_on": 3})))
    worker = workers.make()
    assert await worker.drain() == 1
    execution = store.get_run(run_id).executions[0]
    assert execution.state == "queued" and execution.error == "service unavailable (503)"
    assert execution.error_details == {"status": 503}
    assert execution.next_attempt_at == NOW.replace(second=2)  # base 2s, jitter 0
    assert await worker.drain() == 0  # not due yet
    workers.clock.advance(seconds=2)
    await worker.drain()
    workers.clock.advance(seconds=4)
    await worker.drain()
    run = store.get_run(run_id)
    assert run.state == "succeeded" and run.executions[0].attempts == 3
    assert [attempt for attempt, _ in Flaky.seen] == [1, 2, 3]
    assert {key for _, key in Flaky.seen} == {execution.idempotency_key}


async def test_retry_limit_fails_the_execution(store, workers):
    run_id = start(store, chain("c", Node("Flaky", "t.flaky", {"succeed_on": 99})))
    worker = workers.make()
    for _ in range(6):
        await worker.drain()
        workers.clock.advance(hours=1)
    run = store.get_run(run_id)
    assert run.state == "failed"
    assert (run.executions[0].state, run.executions[0].attempts) == ("failed", 5)


async def test_permanent_error_fails_at_once_with_its_message(store, workers):
    run_id = start(store, chain("c", Node("Broken", "t.broken"), Node("After", "t.echo")))
    await workers.make().drain()
    run = store.get_run(run_id)
    assert run.state == "failed" and len(run.executions) == 1
    failed = run.executions[0]
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.error == "severity 'sev_x' does not exist"


async def test_unexpected_exception_fails_with_its_message(store, workers):
    run_id = start(store, chain("c", Node("Crash", "t.crash")))
    await workers.make().drain()
    execution = store.get_run(run_id).executions[0]
    assert execution.state == "failed" and execution.error == "ValueError: boom"


async def test_expression_error_fails_naming_node_and_field(store, workers):
    run_id = start(store, chain("c", Node("Echo", "t.echo", {"message": "{{ root.data.nope }}"})))
    await workers.make().drain()
    execution = store.get_run(run_id).executions[0]
    assert execution.state == "failed" and execution.attempts == 1
    assert execution.error.startswith("Echo.message")
    assert execution.error_details == {"node": "Echo", "field": "message"}


async def test_integration_secrets_are_decrypted_for_the_component(store, workers):
    store.put_integration(
        "inc",
        "incident",
        {"baseUrl": "http://x"},
        {"apiKey": BOX.encrypt("key-123")},
        "ready",
        "",
        NOW,
    )
    node = Node("Echo", "t.echo", {"message": "m"}, integration="inc")
    run_id = start(store, chain("c", node))
    await workers.make().drain()
    emitted = store.get_run(run_id).executions[0].emitted[0]["event"]["data"]
    assert emitted["integration"] == {"baseUrl": "http://x", "apiKey": "key-123"}


async def test_dead_worker_is_taken_over_with_the_same_key(store, workers):
    run_id = start(store, chain("c", Node("Flaky", "t.flaky", {"succeed_on": 1})))
    from engine_fixtures import Flaky

    [claimed] = store.claim("dead", NOW, 60, 10)  # ... and the worker dies here
    workers.clock.advance(seconds=30)
    assert await workers.make("w2").drain() == 0  # lease still valid
    workers.clock.advance(seconds=31)
    assert await workers.make("w2").drain() == 1
    execution = store.get_run(run_id).executions[0]
    assert execution.state == "succeeded" and execution.attempts == 2
    assert Flaky.seen == [(2, claimed.idempotency_key)]
    assert store.finish(claimed.id, "dead", None, [], workers.clock()) is False


class RestartingStore(InMemoryStore):
    """The store in memory, whose database is down (``down``) as outcomes are recorded:
    what every store raises for a lost connection (store.driver_errors)."""

    down = True

    def finish(self, *args: Any, **kwargs: Any) -> bool:
        if self.down:
            raise StoreUnavailable("the database is unavailable: OperationalError")
        return super().finish(*args, **kwargs)


async def test_database_outage_while_recording_leaves_the_execution_to_be_retried(
    workers, test_registry
):
    store = workers.store = RestartingStore(test_registry)
    run_id = start(store, chain("c", Node("Echo", "t.echo", {"message": "m"})))
    assert await workers.make().drain() == 1
    [execution] = store.get_run(run_id).executions
    assert (execution.state, execution.error) == ("running", None)  # not failed for good
    store.down = False
    workers.clock.advance(seconds=61)
    assert await workers.make("w2").drain() == 1
    [execution] = store.get_run(run_id).executions
    assert (execution.state, execution.attempts) == ("succeeded", 2)


def test_only_templates_that_read_nodes_cost_a_query():
    from incidentflow.components.core import Filter
    from incidentflow.engine.resolve import reads_nodes

    echo = Echo()
    assert reads_nodes(Node("A", "t.echo", {"message": "{{ nodes['One'].data.x }}"}), echo)
    assert reads_nodes(Node("A", "t.echo", {"message": "{% for n in nodes %}{{ n }}{% endfor %}"}),
                       echo)
    assert not reads_nodes(Node("A", "t.echo", {"message": "{{ root.data.nodes }}"}), echo)
    assert not reads_nodes(Node("A", "t.echo", {"message": "plain nodes text"}), echo)
    assert reads_nodes(Node("F", "filter", {"expression": "nodes.One.data.ok"}), Filter())
    assert not reads_nodes(Node("F", "filter", {"expression": "previous.data.ok"}), Filter())


async def test_a_failed_execution_writes_one_warning_line(store, workers, caplog):
    import logging

    run_id = start(store, chain("c", Node("Broken", "t.broken"), Node("After", "t.echo")))
    with caplog.at_level(logging.INFO, logger="incidentflow.engine.worker"):
        await workers.make().drain()
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "incidentflow.engine.worker" and r.levelno >= logging.WARNING]
    assert warnings == [
        f"canvas 'c' node 'Broken' run {run_id} failed: severity 'sev_x' does not exist"]


async def test_a_retried_execution_warns_once_when_it_fails_for_good(store, workers, caplog):
    import logging

    run_id = start(store, chain("c", Node("Flaky", "t.flaky", {"succeed_on": 99})))
    worker = workers.make()
    with caplog.at_level(logging.INFO, logger="incidentflow.engine.worker"):
        for _ in range(6):
            await worker.drain()
            workers.clock.advance(hours=1)
    assert store.get_run(run_id).executions[0].attempts == 5
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "incidentflow.engine.worker" and r.levelno >= logging.WARNING]
    assert warnings == [f"canvas 'c' node 'Flaky' run {run_id} failed: "
                        "service unavailable (503)"]
