"""Baselines (a) bare Starlette and (b) naive receiver on SQLite FULL/NORMAL, started
exactly like the product (uvicorn, same flags), measured in the same run as it."""

from __future__ import annotations

from bench import servers, signing
from bench.context import Context, Figure, measure_ingest, ratio

PATH = "/webhooks/bench-endpoint"
BASELINES = {
    "bare": ("bench.baselines.bare:app", None),
    "naive_full": ("bench.baselines.naive:app", "FULL"),
    "naive_normal": ("bench.baselines.naive:app", "NORMAL"),
}
QUICK_BASELINES = ("bare", "naive_full")


def measure_baselines(ctx: Context) -> None:
    chosen = QUICK_BASELINES if ctx.options.quick else tuple(BASELINES)
    for name in chosen:
        for connections in ctx.options.concurrency:
            key = f"baseline.{name}.c{connections}"
            try:
                ctx.figures[key] = _measure_one(ctx, name, connections)
            except Exception as exc:  # one broken baseline must not hide the others
                ctx.figures[key] = Figure(unavailable=f"{type(exc).__name__}: {exc}")
        _add_ratios_to_bare(ctx, name)


def _measure_one(ctx: Context, name: str, connections: int) -> Figure:
    app, synchronous = BASELINES[name]
    secret = signing.new_secret()
    env = {"BENCH_SIGNING_SECRET": secret}
    if synchronous:
        env |= {
            "BENCH_SQLITE_PATH": str(ctx.scratch(name) / "naive.db"),
            "BENCH_SQLITE_SYNC": synchronous,
        }
    port = servers.free_port()
    server = servers.start(
        f"{name}-c{connections}", servers.uvicorn_argv(app, port), port, ctx.log_dir, env=env
    )
    try:
        figure = measure_ingest(ctx, server, PATH, secret, connections)
    finally:
        servers.stop(server)
    figure.metrics["ready_seconds"] = server.ready_seconds
    return figure


def _add_ratios_to_bare(ctx: Context, name: str) -> None:
    if name == "bare":
        return
    for connections in ctx.options.concurrency:
        add_ratios(
            ctx, f"baseline.{name}.c{connections}", {"bare": f"baseline.bare.c{connections}"}
        )


def add_ratios(ctx: Context, key: str, against: dict[str, str]) -> None:
    """``rps_vs_X`` (higher is better) and ``p99_vs_X`` (lower is better) for each X."""
    figure = ctx.figures.get(key)
    for label, other_key in against.items():
        other = ctx.figures.get(other_key)
        if not figure or figure.unavailable or not other or other.unavailable:
            continue
        for metric, short in (("rps", "rps"), ("p50_ms", "p50"), ("p99_ms", "p99")):
            value = ratio(figure.metrics.get(metric), other.metrics.get(metric))
            if value is not None:
                figure.ratios[f"{short}_vs_{label}"] = value
