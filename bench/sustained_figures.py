"""Issue 14 (2): sustained throughput, deferral included.

``sustained.sqlite.cN``: a saturating wrk load (``--sustained-seconds``, default 30 s,
at ``--sustained-connections``, default 64) on On Incident → noop, then the wait until
every acknowledged delivery's run has finished. Reported: the acknowledgement rate
(``rps``), the finished rate (runs finished ÷ (load time + drain time)), the drain time
after the load, and the peaks of the backlog and of the queue-depth gauge
(``bench/backlog.py``); ratios of both rates to the naive FULL receiver's
acknowledgement rate at the same concurrency, measured in the same run.

SQLite only: the issue's target is set against the SQLite naive receiver.
"""

from __future__ import annotations

import time
from functools import partial

from bench import canvases, load
from bench.backlog import BacklogSampler
from bench.context import Context, Figure, RssSampler, probe, ratio
from bench.intake_figures import CANVAS, drain_seconds, load_notes, pool_size, settle, warm_up
from bench.product_figures import _guarded, _product, _wire_trigger
from bench.productdb import ProductCounts

KIND = "sqlite"


def measure_sustained(ctx: Context) -> None:
    if KIND not in ctx.options.databases:
        return
    connections = ctx.options.sustained_connections
    key = f"sustained.{KIND}.c{connections}"
    figure = _guarded(ctx, key, partial(_sustained, ctx, connections))
    naive = ctx.figures.get(f"baseline.naive_full.c{connections}")
    if figure.unavailable:
        return
    if not naive or naive.unavailable:
        figure.notes.append(f"no naive FULL baseline at c={connections} in this run: no ratio "
                            "(add it to --concurrency)")
        return
    for metric in ("finished_per_s", "rps"):
        value = ratio(figure.metrics.get(metric), naive.metrics.get("rps"))
        if value is not None:
            figure.ratios[f"{metric}_vs_naive_full"] = value


def _sustained(ctx: Context, connections: int) -> Figure:
    seconds = ctx.options.sustained_seconds
    with _product(ctx, KIND) as product:
        server = product.server
        path, secret = _wire_trigger(product.api, canvases.INGEST, CANVAS)
        counts = ProductCounts(product.database.url)
        try:
            probe(ctx, server.url, path, secret)
            warm_rate = warm_up(ctx, server.url, counts, path, secret, connections)
            pool = ctx.tagged_pool(path, secret, pool_size(warm_rate, seconds, ctx.options.pool))
            with BacklogSampler(server.url, counts, CANVAS) as backlog, \
                    RssSampler(server.process.pid) as rss:
                result = load.run_wrk(server.url, pool.path, pool.size, connections, seconds)
                load_ended = time.time()
                check = settle(counts, pool, result, connections)
            drained = drain_seconds(counts.runs(CANVAS).last_finished, load_ended)
        finally:
            counts.close()
    busy = result.seconds + drained
    figure = Figure(
        metrics={
            "rps": round(check.acknowledged / result.seconds, 1) if result.seconds else 0.0,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "load_seconds": result.seconds,
            "drain_seconds": drained,
            "finished_per_s": round(check.finished / busy, 1) if busy else 0.0,
            "finished": check.finished,
            "backlog_peak": backlog.backlog_peak,
            "queue_depth_peak": backlog.queue_depth_peak,
            "backlog_samples": len(backlog.samples),
            "backlog_missed_samples": backlog.missed,
            "rss_load_mb": rss.peak,
        }
        | check.metrics()
    )
    figure.notes.append(
        "rps = 2xx per second of load; finished_per_s = runs finished / (load + drain "
        "seconds); backlog = accepted deliveries (product counter) - finished runs, "
        "sampled every 0.5 s"
    )
    figure.notes += load_notes(result, pool, check)
    return figure
