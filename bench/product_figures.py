"""The product's figures of issue 6: ingest, end to end, engine, growth, footprint.

Each figure runs against a fresh data directory (and a fresh PostgreSQL database),
so figures do not leak state into one another. A figure whose product feature is
missing is recorded as not available, with the reason.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import quote

import httpx

from bench import canvases, deliveries, fake_incidentio, openloop, productdb, servers, signing
from bench.baseline_figures import add_ratios
from bench.context import Context, Figure, measure_ingest, ratio
from bench.product import (
    ADMIN_TOKEN,
    Api,
    Database,
    Unavailable,
    cli_path,
    fresh_postgres_database,
    sqlite_database,
    start_serve,
    start_worker,
    wait_for,
)

BASELINE_LABELS = ("bare", "naive_full", "naive_normal")


def _guarded(ctx: Context, key: str, measure: Callable[[], Figure]) -> Figure:
    """Run one figure; any failure becomes "not available" with the reason."""
    try:
        figure = measure()
    except Exception as exc:
        figure = Figure(unavailable=f"{type(exc).__name__}: {exc}")
    ctx.figures[key] = figure
    return figure


def _database(ctx: Context, kind: str) -> tuple[Path, Database]:
    data_dir = ctx.scratch(f"data-{kind}")
    return data_dir, sqlite_database(data_dir) if kind == "sqlite" else fresh_postgres_database()


@dataclass(frozen=True)
class Running:
    server: servers.Server
    api: Api
    database: Database
    data_dir: Path


@contextmanager
def _product(ctx: Context, kind: str, extra: tuple[str, ...] = ()) -> Iterator[Running]:
    """`incidentflow serve` on a fresh database, stopped on the way out."""
    data_dir, database = _database(ctx, kind)
    server = start_serve(f"serve-{kind}-{ctx.tag()}", data_dir, database, ctx.log_dir, extra)
    api = Api(server.url)
    try:
        yield Running(server, api, database, data_dir)
    finally:
        api.close()
        servers.stop(server)


def _wire_trigger(api: Api, canvas_yaml: str, canvas: str) -> tuple[str, str]:
    """Apply the canvas, give its trigger a secret; returns (webhook path, secret)."""
    api.put_canvas(canvas, canvas_yaml)
    secret = signing.new_secret()
    api.set_secret(canvas, quote(canvases.TRIGGER), secret)
    return api.webhook_path(canvas, canvases.TRIGGER), secret


# -- (1) ingest ------------------------------------------------------------------------


def measure_ingest_figures(ctx: Context) -> None:
    for kind in ctx.options.databases:
        try:
            with _product(ctx, kind) as product:
                server = product.server
                path, secret = _wire_trigger(product.api, canvases.INGEST, "bench-ingest")
                for connections in ctx.options.concurrency:
                    key = f"ingest.{kind}.c{connections}"
                    figure = _guarded(
                        ctx, key, partial(measure_ingest, ctx, server, path, secret, connections)
                    )
                    figure.metrics["ready_seconds"] = server.ready_seconds
                    add_ratios(
                        ctx, key, {b: f"baseline.{b}.c{connections}" for b in BASELINE_LABELS}
                    )
        except Exception as exc:
            for connections in ctx.options.concurrency:
                ctx.figures[f"ingest.{kind}.c{connections}"] = Figure(
                    unavailable=f"{type(exc).__name__}: {exc}"
                )


# -- (2) end to end ----------------------------------------------------------------------


def measure_end_to_end(ctx: Context) -> None:
    for kind in ctx.options.databases:
        _guarded(ctx, f"e2e.{kind}", partial(_end_to_end, ctx, kind))


def _end_to_end(ctx: Context, kind: str) -> Figure:
    with (
        servers.fake_incidentio("fake-incidentio", ctx.log_dir) as fake,
        _product(ctx, kind) as product,
    ):
        product.api.put_integration("incident", fake.url)
        e2e_canvas = canvases.end_to_end(fake_incidentio.SEVERITY_ID)
        path, secret = _wire_trigger(product.api, e2e_canvas, "bench-e2e")
        rate = ctx.options.rate
        # Warm-up (not counted): a second of the same load, so the figure is the
        # steady state, not the first connection to incident.io or cold caches.
        warm = list(deliveries.signed_deliveries(path, secret, max(5, int(rate)),
                                                 f"{ctx.tag()}-warm"))
        asyncio.run(openloop.run_open_loop(product.server.url, warm, rate))
        count = max(1, int(rate * ctx.options.e2e_seconds))
        batch = list(deliveries.signed_deliveries(path, secret, count, ctx.tag()))
        sent = asyncio.run(openloop.run_open_loop(product.server.url, batch, rate))
        arrivals = _await_arrivals(fake.url, set(sent.sent_at), timeout=30 + count / 10)
    return _end_to_end_figure(sent, arrivals, count)


def _await_arrivals(fake_url: str, names: set[str], timeout: float) -> dict[str, float]:
    seen: dict[str, float] = {}

    def all_arrived() -> bool:
        seen.update(httpx.get(f"{fake_url}/_bench/arrivals", timeout=5).json())
        return names <= set(seen)

    wait_for(
        all_arrived, timeout, f"{len(names)} Create Incident requests at the fake incident.io", 0.25
    )
    return seen


def _end_to_end_figure(
    sent: openloop.OpenLoopResult, arrivals: dict[str, float], count: int
) -> Figure:
    if not sent.sent_at:
        raise Unavailable(f"no delivery accepted: {sent.failures[:3]}")
    latencies = [(arrivals[name] - at) * 1000 for name, at in sent.sent_at.items()]
    # From the 2xx to the request at incident.io (negative when the request arrived
    # first: the worker starts right after the commit, in parallel with the answer).
    after_ack = [(arrivals[name] - at) * 1000 for name, at in sent.answered_at.items()]
    figure = Figure(
        metrics={
            "deliveries": count,
            "p50_ms": round(openloop.percentile(latencies, 50), 2),
            "p99_ms": round(openloop.percentile(latencies, 99), 2),
            "max_ms": round(max(latencies), 2),
            "accepted_to_request_p50_ms": round(openloop.percentile(after_ack, 50), 2),
            "accepted_to_request_p99_ms": round(openloop.percentile(after_ack, 99), 2),
            "ack_p50_ms": round(openloop.percentile(sent.latencies_ms, 50), 2),
            "ack_p99_ms": round(openloop.percentile(sent.latencies_ms, 99), 2),
            "generator_behind_ms": round(sent.behind_ms, 2),
            "failures": len(sent.failures),
        }
    )
    figure.notes.append(
        "p50/p99: from the moment each delivery was due to be sent to its Create Incident "
        "request arriving (after a one-second warm-up at the same rate)"
    )
    if sent.failures:
        figure.notes.append(f"{len(sent.failures)} deliveries failed, e.g. {sent.failures[0]}")
    return figure


# -- (3) engine ----------------------------------------------------------------------------


def measure_engine(ctx: Context) -> None:
    plans = {
        "sqlite": ((1, "engine.sqlite.1proc"),),
        "postgres": ((1, "engine.postgres.1worker"), (2, "engine.postgres.2workers")),
    }
    for kind in ctx.options.databases:
        for workers, key in plans.get(kind, ()):
            _guarded(ctx, key, partial(_engine, ctx, kind, workers))
    one, two = (
        ctx.figures.get("engine.postgres.1worker"),
        ctx.figures.get("engine.postgres.2workers"),
    )
    if one and two and not one.unavailable and not two.unavailable:
        value = ratio(two.metrics["executions_per_s"], one.metrics["executions_per_s"])
        if value is not None:
            two.ratios["vs_1worker"] = value


def _engine(ctx: Context, kind: str, workers: int) -> Figure:
    """Queue the runs with workers off, then time worker processes draining them."""
    runs = ctx.options.engine_runs
    with _product(ctx, kind, ("--no-workers",)) as product:
        product.api.put_canvas("bench-engine", canvases.ENGINE)
        asyncio.run(_queue_runs(product.server.url, runs))
    data_dir, database = product.data_dir, product.database
    expected = runs * canvases.ENGINE_CHAIN_LENGTH
    processes = [
        start_worker(f"worker-{kind}-{n}-{ctx.tag()}", data_dir, database, ctx.log_dir)
        for n in range(workers)
    ]
    try:
        wait_for(
            lambda: productdb.execution_progress(database.url).pending == 0,
            timeout=60 + expected / 100,
            what=f"{expected} executions to finish",
            interval=0.5,
        )
    finally:
        for process in processes:
            _stop_process(process)
    progress = productdb.execution_progress(database.url)
    return Figure(
        metrics={
            "runs": runs,
            "executions": progress.finished,
            "executions_per_s": round(progress.rate(), 1),
            "workers": workers,
        }
    )


async def _queue_runs(base_url: str, runs: int, concurrency: int = 16) -> None:
    api_headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    path = f"/api/v1/canvases/bench-engine/nodes/{quote(canvases.START)}/run"
    numbers = iter(range(runs))

    async def queue(client: httpx.AsyncClient) -> None:
        for number in numbers:
            response = await client.post(path, json={"bench": number}, headers=api_headers)
            if response.status_code != 202:
                raise Unavailable(
                    f"manual run answered {response.status_code}: {response.text[:200]}"
                )

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await asyncio.gather(*(queue(client) for _ in range(concurrency)))


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# -- (4) growth ------------------------------------------------------------------------------


def measure_growth(ctx: Context) -> None:
    options = ctx.options
    for kind in options.databases:
        for events in options.growth_events:
            _guarded(
                ctx,
                f"growth.{kind}.events_{events}",
                partial(_growth, ctx, kind, events, 1),
            )
        for endpoints in options.growth_endpoints:
            key = f"growth.{kind}.endpoints_{endpoints}"
            empty = ctx.figures.get(f"growth.{kind}.events_0")
            if endpoints == 1 and empty:
                ctx.figures[key] = Figure(
                    empty.metrics,
                    {},
                    empty.unavailable,
                    ["same measurement as events_0 (1 endpoint, no history)"],
                )
                continue
            _guarded(ctx, key, partial(_growth, ctx, kind, 0, endpoints))
        empty_key = f"growth.{kind}.events_0"
        for key, figure in list(ctx.figures.items()):
            copied = bool(figure.notes) and figure.notes[0].startswith("same measurement")
            if key.startswith(f"growth.{kind}.") and key != empty_key and not copied:
                add_ratios(ctx, key, {"empty": empty_key})


def _growth(ctx: Context, kind: str, events: int, endpoints: int) -> Figure:
    with _product(ctx, kind) as product:
        path, secret = _wire_trigger(product.api, canvases.INGEST, "bench-ingest")
        started = time.monotonic()
        if events:
            endpoint_id = path.rstrip("/").rsplit("/", 1)[-1]
            productdb.prefill_history(
                product.database.url, "bench-ingest", canvases.TRIGGER, endpoint_id, events
            )
        _add_filler_endpoints(product.api, endpoints - 1)
        prepared = round(time.monotonic() - started, 1)
        figure = measure_ingest(ctx, product.server, path, secret, ctx.options.growth_concurrency)
    figure.metrics |= {"stored_events": events, "endpoints": endpoints, "prefill_seconds": prepared}
    return figure


def _add_filler_endpoints(api: Api, count: int, per_canvas: int = 100) -> None:
    for index, start in enumerate(range(0, count, per_canvas)):
        name = f"bench-filler-{index:03d}"
        api.put_canvas(name, canvases.filler(index, min(per_canvas, count - start)))


# -- (5) footprint ---------------------------------------------------------------------------


def measure_footprint(ctx: Context) -> None:
    _guarded(ctx, "footprint.sqlite", lambda: _footprint(ctx))


def _footprint(ctx: Context) -> Figure:
    """Ready time and memory from the SQLite intake or ingest run if there was one, else
    its own run."""
    measured = next(
        (
            f
            for k, f in ctx.figures.items()
            if k.startswith(("intake.sqlite.", "ingest.sqlite.")) and not f.unavailable
        ),
        None,
    )
    if measured is None:
        with _product(ctx, "sqlite") as product:
            path, secret = _wire_trigger(product.api, canvases.INGEST, "bench-ingest")
            measured = measure_ingest(
                ctx, product.server, path, secret, ctx.options.concurrency[-1]
            )
            measured.metrics["ready_seconds"] = product.server.ready_seconds
    keep = ("ready_seconds", "rss_idle_mb", "rss_load_mb")
    return Figure(
        metrics={k: measured.metrics[k] for k in keep}
        | {"help_seconds": _help_seconds(1 if ctx.options.quick else 5)},
        notes=[
            "ready = spawn of `incidentflow serve` on a fresh SQLite until it answers HTTP; "
            "idle RSS after the canvas is applied, load RSS = peak under wrk"
        ],
    )


def _help_seconds(repeats: int) -> float:
    """Median wall time of `incidentflow --help` over ``repeats`` runs."""
    cli = cli_path()
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        subprocess.run([cli, "--help"], capture_output=True, check=True, timeout=30)
        times.append(time.monotonic() - started)
    return round(statistics.median(times), 3)
