"""Where a delivery's CPU goes: `serve` under one wrk load, its threads' CPU counted.

    python -m bench.cpu_probe --connections 64 --seconds 5
    python -m bench.cpu_probe --connections 64 --no-workers          # intake alone
    python -m bench.cpu_probe --connections 64 --worker-process      # + `incidentflow worker`
    python -m bench.cpu_probe --connections 64 --rounds 3 --pool 2000  # rounds 2+: duplicates

A fresh SQLite product (On Incident -> noop), one wrk load per round over the same
pool of signed deliveries (so with a small ``--pool`` the later rounds are
duplicates, the cheapest delivery there is). Per round it prints the 2xx rate, the
server's CPU per delivery (``/proc/<pid>/task/*/stat``) split by thread, the
machine's busy share, and how many runs had finished when the load ended: what the
figures of ``bench.run`` do not show, which thread is the bottleneck and whether
work was deferred. ``--worker-process`` runs the engine in an `incidentflow worker`
process beside `serve --no-workers` and reports its CPU too.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from bench import canvases, load
from bench.context import Context, probe
from bench.product import start_worker
from bench.product_figures import Running, _product, _wire_trigger
from bench.profile import _options

_TICKS = os.sysconf("SC_CLK_TCK")


def thread_seconds(pid: int) -> dict[tuple[str, str], float]:
    """CPU seconds (user + system) of each thread of ``pid``, by (tid, name)."""
    found: dict[tuple[str, str], float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        except OSError:  # the thread ended meanwhile
            continue
        fields = stat.rpartition(")")[2].split()
        found[(tid, name)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return found


def machine_ticks() -> list[int]:
    return [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]


def busy_share(before: list[int], after: list[int]) -> float:
    spent = [b - a for a, b in zip(before, after, strict=True)]
    idle = spent[3] + spent[4]  # idle and iowait
    return 1 - idle / max(1, sum(spent))


def run_states(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT state, count(*) FROM runs GROUP BY state"))
            return {str(state): int(count) for state, count in rows}
    finally:
        engine.dispose()


@contextmanager
def _worker(ctx: Context, product: Running, wanted: bool) -> Iterator[int | None]:
    if not wanted:
        yield None
        return
    process = start_worker("probe-worker", product.data_dir, product.database, ctx.log_dir)
    try:
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _round(ctx: Context, product: Running, args: argparse.Namespace, pool: Path, size: int,
           worker_pid: int | None) -> None:
    pid = product.server.process.pid
    before, ticks = thread_seconds(pid), machine_ticks()
    worker_before = thread_seconds(worker_pid) if worker_pid else {}
    started = time.monotonic()
    result = load.run_wrk(product.server.url, pool, size, args.connections, args.seconds)
    elapsed = time.monotonic() - started
    after, ticks_after = thread_seconds(pid), machine_ticks()
    delivered = max(1.0, result.rps * args.seconds)
    spent = {key: after[key] - before.get(key, 0.0) for key in after}
    total = sum(spent.values())
    print(f"c{args.connections}: {result.rps:,.0f} 2xx/s, p50 {result.p50_ms} ms, p99 "
          f"{result.p99_ms} ms; server {total / elapsed:.0%} of a core, "
          f"{total / delivered * 1000:.3f} ms CPU per 2xx; machine "
          f"{busy_share(ticks, ticks_after):.0%} busy")
    for (_, name), seconds in sorted(spent.items(), key=lambda item: -item[1]):
        if seconds > 0.05:
            print(f"    thread {name:<18} {seconds / delivered * 1000:.3f} ms per 2xx "
                  f"({seconds / elapsed:.0%} of a core)")
    if worker_pid:
        worker = thread_seconds(worker_pid)
        used = sum(worker[key] - worker_before.get(key, 0.0) for key in worker)
        print(f"    worker process     {used / delivered * 1000:.3f} ms per 2xx "
              f"({used / elapsed:.0%} of a core)")
    print(f"    runs when the load ended: {run_states(product.database.url)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pool", type=int, default=40_000)
    parser.add_argument("--pause", type=float, default=3, help="seconds between rounds")
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--no-workers", action="store_true", help="serve --no-workers")
    engine.add_argument("--worker-process", action="store_true",
                        help="serve --no-workers beside one `incidentflow worker`")
    args = parser.parse_args(argv)
    ctx = Context(_options(), Path(tempfile.mkdtemp(prefix="cpu-probe-")))
    extra = ("--no-workers",) if args.no_workers or args.worker_process else ()
    with _product(ctx, "sqlite", extra) as product:
        path, secret = _wire_trigger(product.api, canvases.INGEST, "bench-ingest")
        probe(ctx, product.server.url, path, secret)
        pool, size = ctx.pool(path, secret, args.pool)
        with _worker(ctx, product, args.worker_process) as worker_pid:
            for number in range(args.rounds):
                if number:
                    time.sleep(args.pause)
                _round(ctx, product, args, pool, size, worker_pid)


if __name__ == "__main__":
    main()
