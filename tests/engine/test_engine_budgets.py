"""Expression budgets in the worker (SQLite and PostgreSQL): a breach fails the
execution permanently, at once and on takeover, and slow templates are evaluated off
the event loop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from engine_fixtures import NOW, Echo, chain

from bench.hostile import HOSTILE_LOOP
from incidentflow.canvas import Node
from incidentflow.engine.resolve import resolves_inline
from incidentflow.engine.router import first_executions
from incidentflow.events import Event
from incidentflow.expression_budget import Budget

START = Event("start.manual", {"who": "alice"}, "2026-03-01T12:00:00Z")


def start(store, canvas) -> str:
    store.save_canvas(canvas, "", [], NOW)
    return store.start_run(
        canvas.name, "Start", START, first_executions(canvas, "Start", START), NOW
    )


def assert_loop_free(lags: list[float]) -> None:
    """On the loop, a 0.5 s budget would hold it for 0.5 s. Off it, a stall is a
    scheduling hiccup of a loaded machine: 95 % of ticks on time, none near 0.5 s."""
    ordered = sorted(lags)
    p95 = ordered[int(len(ordered) * 0.95)]
    assert len(lags) > 20 and p95 < 0.05 and max(lags) < 0.3, (
        f"event loop held for {max(lags):.3f} s (p95 {p95:.3f} s)")


async def probe_lags(lags: list[float]) -> None:
    """How late each 5 ms tick of the event loop comes, until cancelled."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(0.005)
        lags.append(time.monotonic() - before - 0.005)


def with_budget(workers, budget: Budget):
    base = type(workers).settings
    workers.settings = lambda: replace(base(workers), expression_budget=budget)
    return workers


async def test_a_breach_fails_the_execution_permanently(store, workers):
    run_id = start(store, chain("c", Node("Echo", "t.echo", {"message": HOSTILE_LOOP})))
    worker = workers.make()
    assert await worker.drain() == 1
    run = store.get_run(run_id)
    [execution] = run.executions
    assert (run.state, execution.state, execution.attempts) == ("failed", "failed", 1)
    assert execution.error.startswith("Echo.message: over the iterations budget:")
    assert "INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS" in execution.error
    assert execution.error_details == {
        "node": "Echo", "field": "message", "budget": "iterations", "limit": 100_000,
        "setting": "INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS",
    }
    workers.clock.advance(hours=2)
    assert await worker.drain() == 0  # never retried


async def test_takeover_after_a_crash_fails_it_within_the_budget(store, workers):
    with_budget(workers, Budget(timeout_seconds=0.3, max_iterations=10**12))
    run_id = start(store, chain("c", Node("Echo", "t.echo", {"message": HOSTILE_LOOP})))
    store.claim("dead", NOW, 60, 10)  # ... and that worker is killed mid-evaluation
    workers.clock.advance(seconds=61)
    started = time.monotonic()
    assert await workers.make("w2").drain() == 1
    assert time.monotonic() - started < 5
    [execution] = store.get_run(run_id).executions
    assert (execution.state, execution.attempts) == ("failed", 2)
    assert execution.error_details["budget"] == "time"
    workers.clock.advance(hours=2)
    assert await workers.make("w3").drain() == 0  # not taken over again


async def test_a_slow_template_does_not_hold_the_event_loop(store, workers):
    with_budget(workers, Budget(timeout_seconds=0.5, max_iterations=10**12))
    for name in ("a", "b", "c"):
        start(store, chain(name, Node("Echo", "t.echo", {"message": HOSTILE_LOOP})))
    lags: list[float] = []
    probing = asyncio.get_running_loop().create_task(probe_lags(lags))
    started = time.monotonic()
    try:
        assert await workers.make().drain() == 3
    finally:
        probing.cancel()
    assert time.monotonic() - started >= 0.5  # the templates did run for their budget
    assert_loop_free(lags)


async def test_a_slow_concurrency_key_does_not_hold_the_event_loop(store, workers):
    """Routing renders the next nodes' concurrency keys: also off the loop."""
    with_budget(workers, Budget(timeout_seconds=0.5, max_iterations=10**12))
    slow_key = HOSTILE_LOOP + "{{ previous.type }}"
    run_id = start(store, chain("keyed", Node("First", "t.echo", {"message": "hi"}),
                                Node("Second", "t.echo", {"message": "x"},
                                     concurrency_key=slow_key)))
    lags: list[float] = []
    probing = asyncio.get_running_loop().create_task(probe_lags(lags))
    started = time.monotonic()
    try:
        await workers.make().drain()
    finally:
        probing.cancel()
    assert time.monotonic() - started >= 0.5  # the key did render for its budget
    # A key that cannot be rendered orders the node's executions one at a time.
    states = {e.node: e.state for e in store.get_run(run_id).executions}
    assert states == {"First": "succeeded", "Second": "succeeded"}
    assert_loop_free(lags)


def test_plain_lookups_resolve_inline_and_the_rest_in_the_pool():
    def inline(config):
        return resolves_inline(Node("Echo", "t.echo", config), Echo())

    assert inline({"message": "hi {{ root.data.who }} of {{ run.id }}"})
    assert inline({"message": "no expressions"})
    assert not inline({"message": "{{ root.data.who|center(10) }}"})
    assert not inline({"message": HOSTILE_LOOP})
