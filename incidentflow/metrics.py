"""Prometheus metrics of this process (served at ``/metrics``, or by ``worker --metrics-port``).

Per process on purpose: with several processes (``serve --no-workers`` replicas plus
``incidentflow worker``s) Prometheus scrapes each and sums with ``sum by (...)``; only
``incidentflow_queue_depth`` and ``incidentflow_waiting_executions`` are global (read from
the database at scrape), so take their ``max``. Labels have small fixed value sets: never a
canvas, node, URL, header or reason text, so nothing a sender controls (and no secret)
can reach a label.

How the numbers are taken without touching the hot paths' code:
- ``store_metrics.StoreMetrics`` counts the outcomes the host and the worker record
  (deliveries; executions succeeded/retried/failed; queue wait), reported by the store's
  async face (``Store.meter_outcomes``).
- :func:`webhook_timer` is ASGI middleware around ``/webhooks/...``: handling time,
  and the rejections that never reach the store (unknown endpoint, body too large).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from incidentflow.components.base import RejectionCode
from incidentflow.self_trigger import REASON_PREFIX as SELF_TRIGGERED
from incidentflow.store.port import Store

# No "<name>_created" series: they double the output and nobody here graphs them.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

DELIVERIES = Counter(
    "incidentflow_webhook_deliveries_total",
    "Webhook deliveries by outcome (accepted, duplicate, ignored, filtered, paused, "
    "rejected) and reason class (self_triggered for the self-trigger guard's ignores).",
    ["outcome", "reason"], registry=REGISTRY,
)
WEBHOOK_SECONDS = Histogram(
    "incidentflow_webhook_handling_seconds",
    "Time to answer POST /webhooks/{id}: request start to response start.",
    buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
EXECUTIONS = Counter(
    "incidentflow_executions_total",
    "Execution attempts by result (succeeded, failed, retried).",
    ["result"], registry=REGISTRY,
)
EXECUTION_SECONDS = Histogram(
    "incidentflow_execution_duration_seconds",
    "One execution attempt, from claim to its recorded outcome.",
    buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
QUEUE_WAIT = Histogram(
    "incidentflow_queue_wait_seconds",
    "First attempts: from enqueue to claim by a worker (retries wait on purpose; excluded).",
    buckets=_WAIT_BUCKETS, registry=REGISTRY,
)
# Made once (show zeros before the first one); ``.labels()`` per execution costs a lock
# and a lookup on the engine's hot path.
EXECUTION_RESULTS = {result: EXECUTIONS.labels(result=result)
            for result in ("succeeded", "failed", "retried")}
for _outcome in ("accepted", "duplicate", "ignored", "paused"):
    DELIVERIES.labels(outcome=_outcome, reason="")
DELIVERIES.labels(outcome="ignored", reason="self_triggered")

# The create rate limit (engine.rate_gate): no canvas or node label (see above); the
# WARNING log line and the canvas view name the node.
RATE_LIMIT_TRIPS = Counter(
    "incidentflow_rate_limit_trips_total",
    "Times a node that creates things elsewhere went past its rate limit and tripped.",
    registry=REGISTRY,
)
HELD_EXECUTIONS = Counter(
    "incidentflow_executions_held_total",
    "Executions held because their node's rate limit had tripped.",
    registry=REGISTRY,
)

PRUNED = Counter(
    "incidentflow_pruned_rows_total", "Rows deleted by retention.", ["kind"], registry=REGISTRY,
)

def reason_class(code: str) -> str:
    """The label of a rejection: its code (``RejectionCode``), a small fixed set; a
    value outside it counts as "other" so that nothing can grow the label set."""
    return code if code in _REJECTION_LABELS else RejectionCode.OTHER.value


_REJECTION_LABELS = frozenset(code.value for code in RejectionCode)


def accepted_reason_class(result: Any) -> str:
    """The label of a delivery the store recorded: only the self-trigger guard's
    ignores get a class of their own (fixed text, never the reason itself)."""
    if result.outcome == "ignored" and result.reason.startswith(SELF_TRIGGERED):
        return "self_triggered"
    return ""


def count_delivery(outcome: str, reason: str = "") -> None:
    child = _DELIVERY_COUNTERS.get((outcome, reason))
    if child is None:
        child = _DELIVERY_COUNTERS[(outcome, reason)] = DELIVERIES.labels(
            outcome=outcome, reason=reason)
    child.inc()


_DELIVERY_COUNTERS: dict[tuple[str, str], Any] = {}


def id_time(store_id: str) -> datetime | None:
    """Creation time of a store id (``store.codec.new_id``: 12 hex digits of epoch ms
    first), or None for an id of another shape."""
    head = store_id[:12]
    try:
        return datetime.fromtimestamp(int(head, 16) / 1000, UTC) if len(head) == 12 else None
    except (ValueError, OverflowError, OSError):
        return None


# -- scraping ------------------------------------------------------------------------------


class _Shared(Collector):
    def __init__(self, others: Sequence[bytes] = ()):
        self._others = others

    def collect(self) -> Iterator[Any]:
        if not self._others:
            yield from REGISTRY.collect()
            return
        yield from summed(REGISTRY.collect(), self._others)


def own_text() -> bytes:
    """This process's counters, as another process's ``/metrics`` adds them."""
    return generate_latest(REGISTRY)


def summed(families: Iterable[Metric], others: Sequence[bytes]) -> Iterator[Metric]:
    """``families`` with the samples of ``others`` (Prometheus text of the same
    counters and histograms in other processes) added: a series both have is summed,
    one only another process has is added as it is."""
    extra: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], Sample]] = {}
    for text in others:
        for family in text_string_to_metric_families(text.decode()):
            kept = extra.setdefault(family.name, {})
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                old = kept.get(key)
                kept[key] = sample if old is None else old._replace(
                    value=old.value + sample.value)
    for family in families:
        theirs = dict(extra.get(family.name, {}))
        merged = Metric(family.name, family.documentation, family.type, family.unit)
        for sample in family.samples:
            other = theirs.pop((sample.name, tuple(sorted(sample.labels.items()))), None)
            merged.samples.append(sample if other is None else sample._replace(
                value=sample.value + other.value))
        merged.samples += theirs.values()
        yield merged


# Callables that fetch other processes' counters at scrape (serve's worker process).
_OTHER_PROCESSES: list[Callable[[], Awaitable[bytes | None]]] = []


def count_other_process(fetch: Callable[[], Awaitable[bytes | None]]) -> None:
    """Add the counters ``fetch`` returns (or None: not this time) to every scrape."""
    _OTHER_PROCESSES.append(fetch)


async def other_processes() -> list[bytes]:
    found = [await fetch() for fetch in _OTHER_PROCESSES]
    return [text for text in found if text is not None]


class QueueDepth(Collector):
    """``incidentflow_queue_depth`` and ``incidentflow_database_up``, read at scrape."""

    def __init__(self, store: Store, now: Callable[[], datetime]):
        self._store, self._now = store, now

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("incidentflow_database_up",
                               "1 if the database answered this scrape's query.")
        depth = GaugeMetricFamily("incidentflow_queue_depth",
                                  "Executions due now and not running (all processes).")
        try:
            value = self._store.queue_depth(self._now())
        except Exception:  # the scrape still answers; database_up says why it is short
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        depth.add_metric([], value)
        yield up
        yield depth


# The kinds always reported (0 when none waits), so a dashboard's series never vanish;
# a waiting kind added by another step (e.g. "event") appears once one waits.
WAITING_KINDS = ("wait", "retry", "approval")


class WaitingExecutions(Collector):
    """``incidentflow_waiting_executions{kind}``, read at scrape: executions waiting for
    a time (``wait``), a retry's backoff (``retry``) or a waiting step's wait
    (``approval``, ...). The kinds are fixed by code, never by what users send."""

    def __init__(self, store: Store, now: Callable[[], datetime]):
        self._store, self._now = store, now

    def collect(self) -> Iterator[Any]:
        try:
            counts: dict[str, int] = self._store.waiting_counts(self._now())
        except Exception:  # database_up (QueueDepth) already says why
            return
        gauge = GaugeMetricFamily("incidentflow_waiting_executions",
                                  "Executions waiting (all processes), by what for.",
                                  labels=["kind"])
        for kind in sorted({*WAITING_KINDS, *counts}):
            gauge.add_metric([kind], counts.get(kind, 0))
        yield gauge


def scrape_registry(store: Store, now: Callable[[], datetime],
                    others: Sequence[bytes] = ()) -> CollectorRegistry:
    """What ``/metrics`` shows: this process's counters plus ``others`` (the text of
    other processes' counters: serve's worker process), and the database's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Shared(others))
    registry.register(QueueDepth(store, now))
    registry.register(WaitingExecutions(store, now))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


# -- the webhook middleware -------------------------------------------------------------

# Only the web layer refuses with these statuses (an endpoint id that cannot exist, a
# body over the limit), and nothing else answers them on this path.
_STATUS_REASONS = {404: RejectionCode.UNKNOWN_ENDPOINT.value, 413: RejectionCode.TOO_LARGE.value}


def webhook_timer(app: Any) -> Any:
    """ASGI middleware timing ``/webhooks/`` requests and counting the rejections that
    are decided before the store is involved (404 unknown endpoint, 413 too large)."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/webhooks/"):
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                WEBHOOK_SECONDS.observe(time.perf_counter() - started)
            await send(message)

        await app(scope, receive, watch)
        if status:
            webhook_answered(None, status[0])

    return middleware


def webhook_answered(seconds: float | None, status: int) -> None:
    """A ``/webhooks/`` request answered ``status`` after ``seconds`` (None: already
    observed); a 404 or 413 is counted as the rejection it is."""
    if seconds is not None:
        WEBHOOK_SECONDS.observe(seconds)
    if status in _STATUS_REASONS:
        count_delivery("rejected", _STATUS_REASONS[status])



