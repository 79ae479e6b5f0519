"""Closed-loop load with wrk: fixed concurrency, pre-signed deliveries, JSON summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("signed_requests.lua")
WRK_INSTALL_HINT = "wrk is not installed: apt-get install -y wrk (Debian package 'wrk')"


class LoadError(RuntimeError):
    """wrk could not run or produced no summary."""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx: int
    pool_size: int

    @property
    def wrapped(self) -> bool:
        """More requests than pre-signed deliveries: later ones were replays (duplicates)."""
        return self.requests > self.pool_size

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"wrapped": self.wrapped}


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise LoadError(WRK_INSTALL_HINT)
    return found


def wrk_threads() -> int:
    """Leave at least one core to the server under test (wrk takes one per thread)."""
    return max(1, (os.cpu_count() or 2) // 2)


def run_wrk(
    base_url: str, pool: Path, pool_size: int, connections: int, seconds: float
) -> LoadResult:
    threads = min(wrk_threads(), connections)
    argv = [
        wrk_path(),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(pool),
        str(threads),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise LoadError(
            f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout[-500:]}"
        )
    return _result(json.loads(line.removeprefix("BENCH_JSON ")), pool_size)


def _result(summary: dict, pool_size: int) -> LoadResult:
    seconds = summary["duration_us"] / 1e6
    latency = summary["latency_us"]
    errors = summary["errors"]
    return LoadResult(
        requests=summary["requests"],
        seconds=round(seconds, 3),
        rps=round(summary["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        non_2xx=errors["status"],
        pool_size=pool_size,
    )
