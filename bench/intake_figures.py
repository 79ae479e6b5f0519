"""Issue 14 (1): intake of the product at each concurrency, with its promise checked.

``intake.{db}.cN`` is the ingest load (wrk, unique signed ~1.2 KB deliveries, On
Incident → noop), compared with the naive receivers measured in the same run, and then
checked: every 2xx wrk read is a delivery the product stored and whose run finished
(``bench/losscheck.py``), and a few deliveries sent again are answered as duplicates.
Between two loads the backlog drains, so the second load starts from an idle server,
and the time that took (after the load ended) is reported: intake that is fast only
because work is deferred shows it there.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import datetime
from functools import partial

import httpx

from bench import canvases, deliveries, load, servers
from bench.baseline_figures import add_ratios
from bench.context import Context, Figure, Pool, RssSampler, probe
from bench.losscheck import LossCheck, acknowledged_by_wrk, settle_timeout, wait_until_settled
from bench.product_figures import BASELINE_LABELS, Running, _guarded, _product, _wire_trigger
from bench.productdb import ProductCounts

CANVAS = "bench-ingest"
REPLAYS = 5  # deliveries of a finished load sent again: each must be answered "duplicate"
POOL_MARGIN = 1.5  # pool = warm-up rate x seconds x this, so a load does not run out
MAX_POOL = 300_000  # ~400 MB of pool file; beyond it the figure says it wrapped


def measure_intake(ctx: Context) -> None:
    for kind in ctx.options.databases:
        try:
            with _product(ctx, kind) as product:
                path, secret = _wire_trigger(product.api, canvases.INGEST, CANVAS)
                counts = ProductCounts(product.database.url)
                try:
                    for connections in ctx.options.concurrency:
                        key = f"intake.{kind}.c{connections}"
                        measure = partial(_intake, ctx, product, counts, path, secret, connections)
                        _guarded(ctx, key, measure)
                        labels = {b: f"baseline.{b}.c{connections}" for b in BASELINE_LABELS}
                        add_ratios(ctx, key, labels)
                finally:
                    counts.close()
        except Exception as exc:
            for connections in ctx.options.concurrency:
                ctx.figures[f"intake.{kind}.c{connections}"] = Figure(
                    unavailable=f"{type(exc).__name__}: {exc}"
                )


def _intake(
    ctx: Context,
    product: Running,
    counts: ProductCounts,
    path: str,
    secret: str,
    connections: int,
) -> Figure:
    server = product.server
    probe(ctx, server.url, path, secret)
    idle_rss = servers.rss_mb(server.process.pid)
    warm_rate = warm_up(ctx, server.url, counts, path, secret, connections)
    size = pool_size(warm_rate, ctx.options.seconds, ctx.options.pool)
    pool = ctx.tagged_pool(path, secret, size)
    with RssSampler(server.process.pid) as sampler:
        result = load.run_wrk(server.url, pool.path, pool.size, connections, ctx.options.seconds)
    load_ended = time.time()
    check = settle(counts, pool, result, connections)
    replayed = replay(server.url, counts, pool, REPLAYS)
    figure = Figure(
        metrics=result.to_dict()
        | check.metrics()
        | {
            "replayed": sum(replayed.values()),
            "replays_answered_duplicate": replayed["duplicate"],
            "duplicates_answered_as_such": replayed["duplicate"] == REPLAYS,
            "drain_seconds": drain_seconds(counts.runs(CANVAS).last_finished, load_ended),
            "rss_idle_mb": idle_rss,
            "rss_load_mb": sampler.peak,
            "ready_seconds": server.ready_seconds,
        }
    )
    figure.notes += load_notes(result, pool, check, replayed)
    return figure


def warm_up(
    ctx: Context, base_url: str, counts: ProductCounts, path: str, secret: str, connections: int
) -> float:
    """A short load at the same concurrency, drained before the measured one; the rate it
    saw (0 without a warm-up), which sizes the measured load's pool."""
    options = ctx.options
    if options.warmup <= 0:
        return 0.0
    warm = ctx.tagged_pool(path, secret, max(200, options.pool // 10))
    result = load.run_wrk(base_url, warm.path, warm.size, connections, options.warmup)
    settle(counts, warm, result, connections)
    return result.rps


def pool_size(rate: float, seconds: float, floor: int) -> int:
    """Enough unique deliveries for ``seconds`` at ``rate`` with a margin (a faster
    product must not turn the end of its load into replays), at least ``floor``."""
    return min(MAX_POOL, max(floor, math.ceil(rate * seconds * POOL_MARGIN) + 1000))


def settle(
    counts: ProductCounts, pool: Pool, result: load.LoadResult, connections: int
) -> LossCheck:
    # A pool that wrapped was sent whole, replays answered 2xx as duplicates: its
    # unique deliveries are what can be stored.
    acknowledged = min(acknowledged_by_wrk(result.requests, result.non_2xx), pool.size)
    return wait_until_settled(
        partial(counts.stored, pool.webhook_id_prefix),
        acknowledged,
        in_flight=connections,
        timeout=settle_timeout(acknowledged),
    )


def replay(base_url: str, counts: ProductCounts, pool: Pool, count: int) -> Counter[str]:
    """Send ``count`` deliveries of the load that the product stored again; their
    answers' statuses (each must be "duplicate"). Taken from the start of the pool, which
    wrk sends first (not all of it: wrk skips the first line). The signatures are younger
    than the five minutes' tolerance unless the drain took that long."""
    head = deliveries.read_pool(pool.path, 10 * count)
    stored = counts.accepted_among([d.webhook_id for d in head])
    answers: Counter[str] = Counter()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for delivery in [d for d in head if d.webhook_id in stored][:count]:
            response = client.post(delivery.path, content=delivery.body,
                                   headers=delivery.headers())
            status = response.json().get("status") if response.is_success else None
            answers[str(status or f"HTTP {response.status_code}")] += 1
    return answers


def drain_seconds(last_finished: datetime | None, load_ended: float) -> float:
    """From the end of the load to the last run's finish (0 when none finished after)."""
    if last_finished is None:
        return 0.0
    return round(max(0.0, last_finished.timestamp() - load_ended), 2)


def load_notes(
    result: load.LoadResult, pool: Pool, check: LossCheck, replayed: Counter[str] | None = None
) -> list[str]:
    notes = []
    if result.wrapped:
        notes.append(f"pool of {pool.size} deliveries exhausted: later requests were replays")
    if result.non_2xx or result.errors:
        notes.append(f"{result.non_2xx} non-2xx answers, {result.errors} socket errors")
    problem = check.problem()
    if problem:
        notes.append(problem)
    if replayed is not None and replayed["duplicate"] != REPLAYS:
        notes.append(f"DUPLICATES NOT ANSWERED AS SUCH: replays answered {dict(replayed)}")
    return notes
