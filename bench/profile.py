"""Profile the product's hot paths with py-spy (``pip install py-spy``).

    python -m bench.profile ingest --seconds 5 --connections 64 --out bench/profiles/x
    python -m bench.profile engine --runs 2000 --out bench/profiles/y

``ingest``: `incidentflow serve` on a fresh SQLite (or ``--database postgres``), wrk
at N connections while py-spy samples the server (all threads, idle frames dropped).
``e2e``: open loop at ``--rate`` deliveries/s through On Incident -> Create Incident
(bench/fake_incidentio.py) while py-spy samples the server.
``engine``: manual runs queued with workers off, then one `incidentflow worker`
drained under py-spy. Writes ``<out>.txt``: the functions with the most samples,
inclusive and self (what bench/profiles/*.txt keep; FINDINGS.md reads them).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import canvases, deliveries, fake_incidentio, load, openloop, productdb, servers
from bench.context import Context, Options, probe
from bench.product import start_worker, wait_for
from bench.product_figures import (
    _await_arrivals,
    _end_to_end_figure,
    _product,
    _queue_runs,
    _wire_trigger,
)


def _options() -> Options:
    return Options(
        figures=(), databases=(), concurrency=(), seconds=0, warmup=0, pool=0, rate=0,
        e2e_seconds=0, engine_runs=0, growth_events=(), growth_endpoints=(),
        growth_concurrency=0, quick=False,
    )


def _py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    argv = [exe, "record", "--pid", str(pid), "--format", "raw", "--output", str(out),
            "--duration", str(int(seconds)), "--rate", "250", "--threads", "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise(collapsed: Path, top: int = 40) -> str:
    """Inclusive and self sample counts per function from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} samples (all threads, idle dropped)", "", "inclusive %  function"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "self %  function"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in own.most_common(top // 2)]
    return "\n".join(lines)


def profile_ingest(args: argparse.Namespace, workdir: Path) -> Path:
    ctx = Context(_options(), workdir)
    out = workdir / "py-spy.collapsed"
    with _product(ctx, args.database) as product:
        path, secret = _wire_trigger(product.api, canvases.INGEST, "bench-ingest")
        probe(ctx, product.server.url, path, secret)
        pool, size = ctx.pool(path, secret, args.pool)
        # serve and its worker process (if it has one), each sampled by its own py-spy
        pids = [product.server.process.pid, *servers._descendants(product.server.process.pid)]
        spies = [_py_spy(pid, out.with_suffix(f".{n}"), args.seconds + 1)
                 for n, pid in enumerate(pids)]
        result = load.run_wrk(product.server.url, pool, size, args.connections, args.seconds)
        for spy in spies:
            spy.wait(timeout=60)
    print(f"wrk: {result.rps:.1f} req/s p50 {result.p50_ms} ms p99 {result.p99_ms} ms")
    # One collapsed file, each stack under its process ("serve" or "worker process"):
    # the summary then counts both, and a frame's share is of the two processes' samples.
    names = ["serve", *["worker process"] * (len(pids) - 1)]
    out.write_text("".join(
        "".join(f"{name};{line}\n" for line in out.with_suffix(f".{n}").read_text().splitlines())
        for n, name in enumerate(names) if out.with_suffix(f".{n}").exists()))
    return out


def profile_engine(args: argparse.Namespace, workdir: Path) -> Path:
    ctx = Context(_options(), workdir)
    out = workdir / "py-spy.collapsed"
    with _product(ctx, args.database, ("--no-workers",)) as product:
        product.api.put_canvas("bench-engine", canvases.ENGINE)
        asyncio.run(_queue_runs(product.server.url, args.runs))
    worker = start_worker("worker-profile", product.data_dir, product.database, ctx.log_dir)
    time.sleep(1.5)  # let the process import before sampling starts
    spy = _py_spy(worker.pid, out, args.seconds)
    started = time.monotonic()
    wait_for(lambda: productdb.execution_progress(product.database.url).pending == 0,
             timeout=600, what="the queue to drain", interval=0.5)
    progress = productdb.execution_progress(product.database.url)
    print(f"engine: {progress.finished} executions, {progress.rate():.1f}/s "
          f"(wall {time.monotonic() - started:.1f}s)")
    spy.wait(timeout=120)
    worker.terminate()
    worker.wait(timeout=30)
    return out


def profile_e2e(args: argparse.Namespace, workdir: Path) -> Path:
    ctx = Context(_options(), workdir)
    out = workdir / "py-spy.collapsed"
    with (
        servers.fake_incidentio("fake-incidentio", ctx.log_dir) as fake,
        _product(ctx, args.database) as product,
    ):
        product.api.put_integration("incident", fake.url)
        canvas = canvases.end_to_end(fake_incidentio.SEVERITY_ID)
        path, secret = _wire_trigger(product.api, canvas, "bench-e2e")
        count = max(1, int(args.rate * args.seconds))
        batch = list(deliveries.signed_deliveries(path, secret, count, ctx.tag()))
        spy = _py_spy(product.server.process.pid, out, args.seconds + 2)
        sent = asyncio.run(openloop.run_open_loop(product.server.url, batch, args.rate))
        arrivals = _await_arrivals(fake.url, set(sent.sent_at), timeout=60)
        spy.wait(timeout=60)
    figure = _end_to_end_figure(sent, arrivals, count)
    print(f"e2e: {figure.metrics}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("ingest", "engine", "e2e"))
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--pool", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="e2e deliveries/s")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        run = {"ingest": profile_ingest, "engine": profile_engine, "e2e": profile_e2e}[args.what]
        text = summarise(run(args, Path(tmp)))
    args.out.with_suffix(".txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
