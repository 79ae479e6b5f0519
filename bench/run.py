"""`make bench` (python -m bench.run): measure the product's figures of issue 6 and the
baselines they are compared with, in one run on this machine.

    python -m bench.run                       # everything, default sizes
    python -m bench.run --figures intake,sustained,storm  # a subset
    python -m bench.run --quick               # seconds-long smoke run (SQLite only)
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import load, report
from bench.baseline_figures import measure_baselines
from bench.context import Context, Options

BENCH_DIR = Path(__file__).parent
ALL_FIGURES = (
    "baselines", "ingest", "intake", "sustained", "storm", "e2e", "engine", "growth",
    "footprint", "canvas", "hostile",
)
# `make bench`: everything but `ingest`, which `intake` measures again with the loss check
# (`--figures ingest` still runs it alone, as issue 6's records did).
DEFAULT_FIGURES = tuple(name for name in ALL_FIGURES if name != "ingest")
# Figures whose ratios need the baselines measured in the same run.
NEED_BASELINES = frozenset({"ingest", "intake", "sustained"})


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part.replace("_", "")) for part in text.split(",") if part)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_options(argv: Sequence[str]) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--figures", type=_names, default=DEFAULT_FIGURES,
        help=f"comma list of {','.join(ALL_FIGURES)} (default: all but ingest)",
    )
    parser.add_argument(
        "--databases", type=_names, default=("sqlite", "postgres"), help="sqlite,postgres"
    )
    parser.add_argument(
        "--concurrency", type=_ints, default=(16, 64), help="wrk connections, e.g. 16,64"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="duration of each measured load"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="warm-up seconds before each load"
    )
    parser.add_argument("--pool", type=int, default=40_000, help="pre-signed deliveries per load")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="deliveries/s for the end-to-end figure"
    )
    parser.add_argument("--e2e-seconds", type=float, default=10.0)
    parser.add_argument("--engine-runs", type=int, default=10_000)
    parser.add_argument("--growth-events", type=_ints, default=(0, 100_000, 1_000_000))
    parser.add_argument("--growth-endpoints", type=_ints, default=(1, 10_000))
    parser.add_argument("--growth-concurrency", type=int, default=64)
    parser.add_argument(
        "--sustained-seconds", type=float, default=30.0, help="saturating load, then the drain"
    )
    parser.add_argument("--sustained-connections", type=int, default=64)
    parser.add_argument(
        "--storm-deliveries", type=int, default=20_000, help="alert storm size (open loop)"
    )
    parser.add_argument("--storm-seconds", type=float, default=10.0, help="alert storm length")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: ~1 s loads, SQLite, a subset"
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--readme", type=Path, default=BENCH_DIR / "README.md")
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and databases")
    parser.add_argument("--no-readme", action="store_true", help="do not touch the README table")
    args = parser.parse_args(argv)
    unknown = set(args.figures) - set(ALL_FIGURES)
    if unknown:
        parser.error(f"unknown figures {sorted(unknown)}; choose from {', '.join(ALL_FIGURES)}")
    if args.quick:
        return _quick(args), args
    options = Options(
        figures=args.figures,
        databases=args.databases,
        concurrency=args.concurrency,
        seconds=args.seconds,
        warmup=args.warmup,
        pool=args.pool,
        rate=args.rate,
        e2e_seconds=args.e2e_seconds,
        engine_runs=args.engine_runs,
        growth_events=args.growth_events,
        growth_endpoints=args.growth_endpoints,
        growth_concurrency=args.growth_concurrency,
        quick=False,
        sustained_seconds=args.sustained_seconds,
        sustained_connections=args.sustained_connections,
        storm_deliveries=args.storm_deliveries,
        storm_seconds=args.storm_seconds,
    )
    return options, args


def _quick(args: argparse.Namespace) -> Options:
    """A few seconds in all: enough to prove every piece of the harness still works."""
    return Options(
        figures=("baselines", "ingest", "footprint"),
        databases=("sqlite",),
        concurrency=(16,),
        seconds=1.0,
        warmup=0.0,
        pool=3_000,
        rate=args.rate,
        e2e_seconds=1.0,
        engine_runs=100,
        growth_events=(0,),
        growth_endpoints=(1,),
        growth_concurrency=16,
        quick=True,
    )


def measure(ctx: Context) -> None:
    from bench import (
        canvas_figures,
        intake_figures,
        product_figures,
        responsiveness_figures,
        storm_figures,
        sustained_figures,
    )

    steps: dict[str, Callable[[Context], None]] = {
        "baselines": measure_baselines,
        "ingest": product_figures.measure_ingest_figures,
        "intake": intake_figures.measure_intake,
        "sustained": sustained_figures.measure_sustained,
        "storm": storm_figures.measure_storm,
        "e2e": product_figures.measure_end_to_end,
        "engine": product_figures.measure_engine,
        "growth": product_figures.measure_growth,
        "footprint": product_figures.measure_footprint,
        "canvas": canvas_figures.measure_canvas,
        "hostile": responsiveness_figures.measure_responsiveness,
    }
    wanted = set(ctx.options.figures)
    if wanted & NEED_BASELINES:
        wanted.add("baselines")  # ratios need them, measured in the same run
    for name in ALL_FIGURES:
        if name in wanted:
            started = time.monotonic()
            print(f"· {name} …", file=sys.stderr, flush=True)
            steps[name](ctx)
            print(f"  {name} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    options, args = parse_options(argv)
    load.wrk_path()  # fail first, with the install hint, if wrk is missing
    workdir = Path(tempfile.mkdtemp(prefix="incidentflow-bench-"))
    ctx = Context(options, workdir)
    try:
        measure(ctx)
    finally:
        if args.keep_workdir:
            print(f"logs and databases kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    document = report.results_document(ctx, shlex.join(["python", "-m", "bench.run", *argv]))
    written = report.write_json(document, args.results_dir)
    if not args.no_readme:
        report.update_readme(args.readme, document)
    print(report.markdown_block(document))
    print(f"results: {written}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except load.LoadError as exc:
        sys.exit(f"bench: {exc}")
