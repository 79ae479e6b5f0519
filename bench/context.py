"""What every figure shares: options, a scratch directory, figures collected so far,
and the one measurement of a receiver under wrk (probe, warm up, load, RSS)."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import deliveries, load, servers


@dataclass(frozen=True)
class Options:
    figures: tuple[str, ...]
    databases: tuple[str, ...]
    concurrency: tuple[int, ...]
    seconds: float
    warmup: float
    pool: int
    rate: float
    e2e_seconds: float
    engine_runs: int
    growth_events: tuple[int, ...]
    growth_endpoints: tuple[int, ...]
    growth_concurrency: int
    quick: bool
    # Issue 14's figures (defaults so older callers that build Options keep working).
    sustained_seconds: float = 30.0
    sustained_connections: int = 64
    storm_deliveries: int = 20_000
    storm_seconds: float = 10.0


@dataclass
class Figure:
    """One reported figure: measured values, ratios to baselines, or why it is missing."""

    metrics: dict[str, object] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    unavailable: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        if self.unavailable:
            return {"available": False, "reason": self.unavailable}
        return {
            "available": True,
            "metrics": self.metrics,
            "ratios": self.ratios,
            "notes": self.notes,
        }


@dataclass
class Context:
    options: Options
    workdir: Path
    figures: dict[str, Figure] = field(default_factory=dict)
    _tags: itertools.count = field(default_factory=itertools.count)

    @property
    def log_dir(self) -> Path:
        path = self.workdir / "logs"
        path.mkdir(exist_ok=True)
        return path

    def scratch(self, name: str) -> Path:
        path = self.workdir / f"{name}-{next(self._tags)}"
        path.mkdir()
        return path

    def tag(self) -> str:
        """A short token unique in this bench run (webhook-ids and incident names)."""
        return f"r{next(self._tags)}"

    def pool(self, path: str, secret: str, size: int) -> tuple[Path, int]:
        pool = self.tagged_pool(path, secret, size)
        return pool.path, pool.size

    def tagged_pool(self, path: str, secret: str, size: int) -> Pool:
        """A pool whose webhook-ids all start with ``Pool.webhook_id_prefix``, so what the
        product stored of this one load can be counted afterwards."""
        tag = self.tag()
        target = self.workdir / f"pool-{tag}.tsv"
        written = deliveries.write_pool(
            deliveries.signed_deliveries(path, secret, size, tag), target
        )
        return Pool(target, written, tag)


@dataclass(frozen=True)
class Pool:
    path: Path
    size: int
    tag: str

    @property
    def webhook_id_prefix(self) -> str:
        return deliveries.webhook_id_prefix(self.tag)


class ProbeFailed(RuntimeError):
    """The receiver refused a correctly signed delivery: measuring it would be meaningless."""


def probe(ctx: Context, base_url: str, path: str, secret: str) -> None:
    delivery = next(deliveries.signed_deliveries(path, secret, 1, ctx.tag()))
    response = httpx.post(
        base_url + path, content=delivery.body, headers=delivery.headers(), timeout=10
    )
    if not response.is_success:
        raise ProbeFailed(
            f"a signed delivery to {path} got HTTP {response.status_code}: {response.text[:200]}"
        )


def measure_ingest(
    ctx: Context, server: servers.Server, path: str, secret: str, connections: int
) -> Figure:
    """Probe, warm up, then load ``server`` at ``connections`` with fresh deliveries."""
    options = ctx.options
    probe(ctx, server.url, path, secret)
    idle_rss = servers.rss_mb(server.process.pid)
    if options.warmup > 0:
        warm_pool, warm_size = ctx.pool(path, secret, max(200, options.pool // 10))
        load.run_wrk(server.url, warm_pool, warm_size, connections, options.warmup)
    pool, size = ctx.pool(path, secret, options.pool)
    with RssSampler(server.process.pid) as sampler:
        result = load.run_wrk(server.url, pool, size, connections, options.seconds)
    figure = Figure(
        metrics=result.to_dict() | {"rss_idle_mb": idle_rss, "rss_load_mb": sampler.peak}
    )
    if result.wrapped:
        figure.notes.append(f"pool of {size} deliveries exhausted: later requests were replays")
    if result.non_2xx or result.errors:
        figure.notes.append(f"{result.non_2xx} non-2xx answers, {result.errors} socket errors")
    return figure


class RssSampler:
    """Peak RSS of a process tree while a block runs (sampled every 0.2 s)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, servers.rss_mb(self.pid))

    def __enter__(self) -> RssSampler:
        self.peak = servers.rss_mb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, servers.rss_mb(self.pid))


def ratio(numerator: object, denominator: object) -> float | None:
    if (
        not isinstance(numerator, int | float)
        or not isinstance(denominator, int | float)
        or not denominator
    ):
        return None
    return round(numerator / denominator, 3)
