"""The product's backlog while a load runs, sampled every half second.

Backlog = deliveries acknowledged so far (the product's own counter of accepted
deliveries, ``/metrics``) minus runs finished (its database): work promised but not yet
done, wherever it waits (queued executions, a delivery log not yet routed, executions
handed to the in-process worker). The ``incidentflow_queue_depth`` gauge (executions
due and not running) is sampled beside it, as the operator would see it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.productdb import ProductCounts

ACCEPTED: tuple[str, dict[str, str]] = (
    "incidentflow_webhook_deliveries_total", {"outcome": "accepted"}
)
QUEUE_DEPTH: tuple[str, dict[str, str]] = ("incidentflow_queue_depth", {})


def sample_value(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The sum of the samples called ``name`` whose labels include ``labels``, from a
    Prometheus text page; None when there is none."""
    found = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]
    return sum(found) if found else None


@dataclass(frozen=True)
class Sample:
    accepted: float
    queue_depth: float
    finished_runs: int

    @property
    def backlog(self) -> float:
        return max(0.0, self.accepted - self.finished_runs)


class BacklogSampler:
    """Peaks of the backlog and the queue depth while a block runs (a thread)."""

    def __init__(self, base_url: str, counts: ProductCounts, canvas: str, interval: float = 0.5):
        self.base_url, self.counts, self.canvas, self.interval = base_url, counts, canvas, interval
        self.samples: list[Sample] = []
        self.missed = 0  # scrapes that failed or timed out (a saturated server is slow)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def backlog_peak(self) -> int:
        return int(max((s.backlog for s in self.samples), default=0))

    @property
    def queue_depth_peak(self) -> int:
        return int(max((s.queue_depth for s in self.samples), default=0))

    def sample(self, client: httpx.Client) -> Sample | None:
        try:
            text = client.get("/metrics").text
        except httpx.HTTPError:
            return None
        accepted = sample_value(text, *ACCEPTED)
        depth = sample_value(text, *QUEUE_DEPTH)
        if accepted is None:
            return None
        return Sample(accepted, depth or 0.0, self.counts.runs(self.canvas).finished)

    def _run(self) -> None:
        timeout = max(2.0, 2 * self.interval)
        with httpx.Client(base_url=self.base_url, timeout=timeout) as client:
            while not self._stop.wait(self.interval):
                taken = self.sample(client)
                if taken is None:
                    self.missed += 1
                else:
                    self.samples.append(taken)

    def __enter__(self) -> BacklogSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
