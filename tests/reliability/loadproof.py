"""The load proof: N signed deliveries (1/5 resends) -> exactly N*4/5 runs, each
execution run exactly once, nothing lost. Shared by the tests and scripts/prove_load.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass

from helpers import Sink, wait_until

from .deliveries import SendReport, make_deliveries, send_all
from .ledger import Ledger, read_ledger


@dataclass
class LoadResult:
    total: int
    unique: int
    report: SendReport
    ledger: Ledger
    sink_keys: Counter[str]
    sink_runs: Counter[str]
    drain_seconds: float

    def figures(self) -> dict[str, object]:
        return {
            "deliveries": self.total,
            "unique": self.unique,
            "send_seconds": round(self.report.seconds, 2),
            "deliveries_per_second": round(self.total / self.report.seconds, 1),
            "answers": dict(self.report.answers),
            "server_errors": self.report.count(lambda s: s >= 500 or s == 0),
            "runs": self.ledger.runs_by_state,
            "executions": self.ledger.executions_by_state,
            "attempts": self.ledger.attempts_by_count,
            "counters": self.ledger.counters,
            "sink_requests": sum(self.sink_keys.values()),
            "sink_distinct_keys": len(self.sink_keys),
            "seconds_until_all_runs_finished": round(self.drain_seconds, 2),
        }


def run_load(webhook_url: str, secret: str, database_url: str, sink: Sink, total: int,
             concurrency: int = 48, finish_within: float = 120.0) -> LoadResult:
    deliveries = make_deliveries(secret, total)
    report = asyncio.run(send_all(webhook_url, deliveries, concurrency))
    unique = total - total // 5
    started = time.monotonic()
    wait_until(lambda: _all_done(database_url, unique, sink), finish_within, interval=0.5,
               what=f"{unique} runs to finish")
    drained = time.monotonic() - started
    keys = Counter(r["headers"].get("idempotency-key", "") for r in list(sink.requests))
    runs = Counter(json.loads(r["body"])["run"] for r in list(sink.requests))
    return LoadResult(total, unique, report, read_ledger(database_url), keys, runs, drained)


def _all_done(database_url: str, unique: int, sink: Sink) -> bool:
    ledger = read_ledger(database_url)
    return ledger.runs >= unique and ledger.unfinished == 0 and len(sink.requests) >= unique


def check_load(result: LoadResult) -> None:
    """Every claim of the proof, each with a message that names the figure."""
    ledger = result.ledger
    assert not result.report.gave_up, f"deliveries never acknowledged: {result.report.gave_up}"
    assert result.report.count(lambda s: s >= 500 or s == 0) == 0, result.figures()
    assert result.report.answers == {"accepted": result.unique,
                                     "duplicate": result.total - result.unique}, result.figures()
    assert ledger.runs == result.unique, result.figures()
    assert ledger.runs_by_state == {"succeeded": result.unique}, result.figures()
    assert sorted(ledger.accepted_ids) == sorted(result.report.acknowledged()), "lost delivery"
    assert ledger.executions_by_state == {"succeeded": 2 * result.unique}, result.figures()
    assert ledger.attempts_by_count == {1: 2 * result.unique}, result.figures()
    # The sink saw each Record execution exactly once: one request per idempotency key.
    assert len(result.sink_keys) == result.unique, result.figures()
    assert set(result.sink_keys.values()) == {1}, result.figures()
    assert set(result.sink_runs.values()) == {1}, "a run reached the sink twice"
    assert ledger.counters["accepted"] == result.unique, ledger.counters
    assert ledger.counters["duplicate"] == result.total - result.unique, ledger.counters
