"""Issue 14 (3): the alert storm.

``storm.sqlite``: ``--storm-deliveries`` (default 20,000) signed deliveries in
``--storm-seconds`` (default 10), open loop, to a ``webhook`` trigger → ``filter`` →
``incident.sendAlertEvent`` against ``bench/fake_incidentio.py`` (``bench/storm.py`` says
which are redeliveries and which the filter drops). Reported: accepted and duplicate
answers, the time from the storm's start until every run finished, the server's peak
memory, and the count at the fake (each passing alert exactly once).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

from bench import canvases, openloop, servers, signing, storm
from bench.backlog import BacklogSampler
from bench.context import Context, Figure, RssSampler
from bench.product import Api
from bench.product_figures import _guarded, _product
from bench.productdb import ProductCounts, RunCounts

CANVAS = "bench-storm"
# At most this many requests out at once, like a fleet of senders; the rest wait their
# turn (their latency still counts from when they were due).
CONNECTIONS = 256
ALERT_TOKEN = "bench-storm-alert-token"


def measure_storm(ctx: Context) -> None:
    if "sqlite" in ctx.options.databases:
        _guarded(ctx, "storm.sqlite", lambda: _storm(ctx))


def _storm(ctx: Context) -> Figure:
    options = ctx.options
    with servers.fake_incidentio("fake-incidentio-storm", ctx.log_dir) as fake:
        with _product(ctx, "sqlite") as product:
            path, secret = _wire_storm(product.api, fake.url)
            plan = storm.plan(path, secret, options.storm_deliveries, ctx.tag(), int(time.time()))
            rate = options.storm_deliveries / options.storm_seconds
            counts = ProductCounts(product.database.url)
            try:
                with RssSampler(product.server.process.pid) as rss, \
                        BacklogSampler(product.server.url, counts, CANVAS) as backlog:
                    sent = _send(product.server.url, plan, rate, options.storm_seconds)
                    runs = _await_runs(counts, sent.outcomes["accepted"])
            finally:
                counts.close()
            hwm = vm_hwm_mb(product.server.process.pid)
        at_fake = storm.count_at_fake(plan.passing_keys, _alert_events(fake.url))
    figure = _figure(plan, sent, runs, at_fake, rss.peak, hwm)
    figure.metrics["backlog_peak"] = backlog.backlog_peak
    return figure


def _wire_storm(api: Api, fake_url: str) -> tuple[str, str]:
    """Canvas, integration, the alert source token (a canvas secret) and the trigger's
    signing secret; returns (webhook path, signing secret)."""
    api.put_integration("incident", fake_url)
    api.put_secret(canvases.STORM_TOKEN_SECRET, ALERT_TOKEN)
    api.put_canvas(CANVAS, canvases.storm())
    secret = signing.new_secret()
    api.set_secret(CANVAS, canvases.STORM_TRIGGER, secret)
    return api.webhook_path(CANVAS, canvases.STORM_TRIGGER), secret


def _send(
    base_url: str, plan: storm.StormPlan, rate: float, seconds: float
) -> openloop.OpenLoopResult:
    # A server that stops answering must not hang the bench: ten times the storm, and more.
    limit = 120 + 10 * seconds
    run = openloop.run_open_loop(base_url, plan.deliveries, rate, max_connections=CONNECTIONS)
    return asyncio.run(asyncio.wait_for(run, limit))


def _await_runs(counts: ProductCounts, accepted: int) -> RunCounts:
    """Until every accepted delivery's run has finished, or a minute plus a second per 50
    deliveries (each run here makes an HTTP call); the last counts either way, so runs
    that never finish show in the figure as not exact."""
    deadline = time.monotonic() + 60 + accepted / 50
    while True:
        runs = counts.runs(CANVAS)
        if runs.total >= accepted and runs.finished == runs.total:
            return runs
        if time.monotonic() >= deadline:
            return runs
        time.sleep(0.25)


def _alert_events(fake_url: str) -> dict[str, int]:
    answer = httpx.get(f"{fake_url}/_bench/alert_events", timeout=30)
    answer.raise_for_status()
    return {str(key): int(count) for key, count in answer.json().items()}


def vm_hwm_mb(pid: int) -> float:
    """The process's own peak resident memory (VmHWM), in MiB; 0 when unreadable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _figure(
    plan: storm.StormPlan,
    sent: openloop.OpenLoopResult,
    runs: RunCounts,
    at_fake: storm.FakeCount,
    rss_peak: float,
    hwm: float,
) -> Figure:
    answers: Counter[str] = sent.outcomes
    metrics: dict[str, object] = {
        "deliveries": len(plan.deliveries),
        "distinct": plan.distinct,
        "redeliveries": plan.redeliveries,
        "accepted": answers["accepted"],
        "duplicates_answered": answers["duplicate"],
        "failed": len(sent.failures),
        "runs": runs.total,
        "runs_unfinished": runs.total - runs.finished,
        "filtered_out": plan.filtered,
        "alerts_expected": at_fake.expected,
        "alerts_at_fake": at_fake.received,
        "alerts_missing": at_fake.missing,
        "alerts_doubled": at_fake.doubled,
        "alerts_unexpected": at_fake.unexpected,
        "seconds_to_all_answered": _seconds_to_all_answered(sent),
        "seconds_to_all_finished": _seconds_since(runs.last_finished, sent.first_due_wall),
        "ack_p50_ms": round(openloop.percentile(sent.latencies_ms, 50), 2),
        "ack_p99_ms": round(openloop.percentile(sent.latencies_ms, 99), 2),
        "generator_behind_ms": round(sent.behind_ms, 2),
        "rss_peak_mb": rss_peak,
        "vm_hwm_mb": hwm,
    }
    exact = (
        answers["accepted"] == plan.distinct == runs.total == runs.finished
        and answers["duplicate"] == plan.redeliveries
        and at_fake.ok
    )
    metrics["exact"] = exact
    figure = Figure(metrics=metrics)
    figure.notes.append(
        "seconds_to_all_answered / _finished: from the first delivery due to the last 2xx / "
        "the last run finished; backlog = accepted deliveries - finished runs (0.5 s); "
        "exact: every distinct delivery accepted once, every redelivery answered as a "
        "duplicate, one alert event per passing alert at the fake"
    )
    if not exact:
        figure.notes.append(
            f"STORM NOT EXACT: answers {dict(answers)}, {len(sent.failures)} failed "
            f"(e.g. {sent.failures[:1]}), runs {runs.total}, fake {at_fake}"
        )
    return figure


def _seconds_to_all_answered(sent: openloop.OpenLoopResult) -> float:
    """From the first delivery due to the last 2xx answer (monotonic clock)."""
    if not sent.answered_at:
        return 0.0
    return round(max(sent.answered_at.values()) - sent.first_due, 2)


def _seconds_since(moment: datetime | None, started: float) -> float:
    return round(moment.timestamp() - started, 2) if moment else 0.0
