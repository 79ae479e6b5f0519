"""The worker and the create rate limit: past it the node trips and holds its
executions (not failed, not lost) until a person releases or discards them."""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx
import pytest
from engine_fixtures import BOX, NOW, Echo, Start, Workers, chain
from toys import CountedCreate

from incidentflow import metrics
from incidentflow.canvas import Node
from incidentflow.engine.retry import RetryPolicy
from incidentflow.engine.router import first_executions
from incidentflow.engine.worker import Worker
from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.registry import Registry
from incidentflow.store_metrics import StoreMetrics

START = Event("start.manual", {}, "2026-03-01T12:00:00Z")


@pytest.fixture
def test_registry() -> Registry:
    registry = Registry()
    for component in (Start(), Echo(), CountedCreate()):
        registry.add_component(component)
    return registry


@pytest.fixture
def workers(store, tmp_path) -> Workers:
    CountedCreate.created.clear()
    CountedCreate.failures = 0
    return Workers(store, tmp_path)


def worker_for(workers: Workers, registry: Registry, **settings: object) -> Worker:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    return Worker(workers.store, registry, BOX, http,  # type: ignore[arg-type]
                  replace(workers.settings(), **settings), worker_id="w1",
                  clock=workers.clock, policy=RetryPolicy(limit=5, random=lambda: 0.0))


def start_runs(store, canvas, count: int) -> list[str]:
    store.save_canvas(canvas, "", [], NOW)
    first = first_executions(canvas, "Start", START)
    return [store.start_run(canvas.name, "Start", START, first, NOW) for _ in range(count)]


def creating(rate_limit: RateLimit | None = None):
    return chain("c", Node("Create", "t.create", rate_limit=rate_limit))


def counter(name: str) -> float:
    return metrics.REGISTRY.get_sample_value(name) or 0.0


def states(store, run_ids: list[str]) -> list[str]:
    return [store.get_run(r).executions[0].state for r in run_ids]


async def test_the_eleventh_in_a_window_is_held_and_the_node_trips(
        store, workers, test_registry, caplog):
    run_ids = start_runs(store, creating(), 11)
    trips, held = counter("incidentflow_rate_limit_trips_total"), counter(
        "incidentflow_executions_held_total")
    with caplog.at_level(logging.WARNING, logger="incidentflow.engine.rate_gate"):
        assert await worker_for(workers, test_registry).drain() == 11
    assert len(CountedCreate.created) == 10
    assert sorted(states(store, run_ids)) == ["held"] + ["succeeded"] * 10
    (held_run,) = [r for r in run_ids if states(store, [r]) == ["held"]]
    assert store.get_run(held_run).state == "running"  # open, showing what it holds
    (state,) = store.node_limits("c")
    assert (state.node, state.tripped, state.held) == ("Create", True, 1)
    assert counter("incidentflow_rate_limit_trips_total") == trips + 1
    assert counter("incidentflow_executions_held_total") == held + 1
    (line,) = [r for r in caplog.records if r.name == "incidentflow.engine.rate_gate"]
    assert line.levelno == logging.WARNING
    assert line.getMessage().startswith(
        "rate limit tripped: canvas=c node=Create went past 10 per 60 s;")


async def test_later_executions_of_a_tripped_node_are_held_at_once(
        store, workers, test_registry, caplog):
    limit = RateLimit(2, 60)
    start_runs(store, creating(limit), 3)
    worker = worker_for(workers, test_registry)
    await worker.drain()
    workers.clock.advance(minutes=10)  # a new window would have started: still tripped
    later = start_runs(store, creating(limit), 4)
    trips = counter("incidentflow_rate_limit_trips_total")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="incidentflow.engine.rate_gate"):
        assert await worker.drain() == 4
    assert len(CountedCreate.created) == 2
    assert states(store, later) == ["held"] * 4
    assert counter("incidentflow_rate_limit_trips_total") == trips  # one trip, one line
    assert not [r for r in caplog.records if r.name == "incidentflow.engine.rate_gate"]
    assert store.node_limits("c")[0].held == 5


async def test_release_runs_what_was_held(store, workers, test_registry):
    run_ids = start_runs(store, creating(RateLimit(3, 60)), 8)
    worker = worker_for(workers, test_registry)
    await worker.drain()
    assert store.resume_node("c", "Create", True, workers.clock()).released == 5
    assert await worker.drain() == 5
    assert len(CountedCreate.created) == 8
    assert [store.get_run(r).state for r in run_ids] == ["succeeded"] * 8
    (state,) = store.node_limits("c")
    assert (state.tripped, state.held, state.window_count) == (False, 0, 0)
    more = start_runs(store, creating(RateLimit(3, 60)), 4)  # a fresh window after resume
    await worker.drain()
    assert sorted(states(store, more)) == ["held"] + ["succeeded"] * 3


async def test_discard_finishes_held_executions_and_their_runs(store, workers, test_registry):
    run_ids = start_runs(store, creating(RateLimit(1, 60)), 3)
    worker = worker_for(workers, test_registry)
    await worker.drain()
    assert store.resume_node("c", "Create", False, workers.clock()).discarded == 2
    assert await worker.drain() == 0
    assert len(CountedCreate.created) == 1
    assert sorted(states(store, run_ids)) == ["discarded", "discarded", "succeeded"]
    assert all(store.get_run(r).finished_at is not None for r in run_ids)


async def test_global_settings_apply_to_nodes_without_their_own(store, workers, test_registry):
    run_ids = start_runs(store, creating(), 5)
    await worker_for(workers, test_registry, create_rate_limit_max=3).drain()
    assert sorted(states(store, run_ids)) == ["held"] * 2 + ["succeeded"] * 3


async def test_a_retry_is_not_counted_again(store, workers, test_registry):
    CountedCreate.failures = 1
    run_ids = start_runs(store, creating(RateLimit(2, 60)), 2)
    worker = worker_for(workers, test_registry)
    await worker.drain()
    workers.clock.advance(seconds=5)
    await worker.drain()
    assert states(store, run_ids) == ["succeeded", "succeeded"]
    assert store.node_limits("c")[0].window_count == 2


async def test_nodes_that_create_nothing_never_touch_the_limit(store, workers, test_registry):
    run_ids = start_runs(store, chain("c", Node("Echo", "t.echo", {"message": "hi"})), 30)
    await worker_for(workers, test_registry, create_rate_limit_max=1).drain()
    assert states(store, run_ids) == ["succeeded"] * 30
    assert store.node_limits() == []


async def test_trips_and_held_executions_are_scraped_and_a_metered_store_forgets_them(
        store, workers, test_registry):
    metered = StoreMetrics()
    store.meter_outcomes(metered)
    start_runs(store, creating(RateLimit(1, 60)), 3)
    await worker_for(workers, test_registry).drain()
    assert metered.running() == 0  # held ones record no outcome: nothing left behind
    scraped = metrics.render(metrics.scrape_registry(store, lambda: NOW)).decode()
    assert "\nincidentflow_rate_limit_trips_total " in scraped
    assert "\nincidentflow_executions_held_total " in scraped
