"""Signed incident.io deliveries and a sender that behaves like incident.io (Svix).

``make_deliveries`` builds N deliveries of which 1/5 repeat an earlier one (same
``webhook-id``, same bytes: a Svix retry). ``send_all`` posts them concurrently and,
like the real sender, retries a delivery answered with 5xx or a dropped connection
until it gets a 2xx, recording every status it saw.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from helpers import signed_headers

EXAMPLE = (Path(__file__).parents[1] / "data" / "incidentio-webhook-examples"
           / "public_incident.incident_created_v2.json")
CREATED = "public_incident.incident_created_v2"


@dataclass(frozen=True)
class Delivery:
    msg_id: str
    body: bytes
    headers: dict[str, str]


def incident_body(number: int, name: str | None = None) -> bytes:
    """The example created_v2 delivery, made unique by the incident's id and name."""
    document = json.loads(EXAMPLE.read_text())
    incident = document[CREATED]
    incident["id"] = f"01PROOF{number:019d}"
    incident["name"] = name or f"Load incident {number}"
    incident["reference"] = f"INC-{number}"
    return json.dumps(document).encode()


def signed(secret: str, msg_id: str, body: bytes) -> Delivery:
    return Delivery(msg_id, body, signed_headers(secret, body, msg_id))


def make_deliveries(secret: str, total: int, seed: int = 5) -> list[Delivery]:
    """``total`` deliveries, ``total // 5`` of them resends of distinct others, shuffled."""
    rng = random.Random(seed)
    unique = total - total // 5
    originals = [signed(secret, f"msg_proof_{i:06d}", incident_body(i)) for i in range(unique)]
    resends = rng.sample(originals, total // 5)
    everything = originals + resends
    rng.shuffle(everything)
    return everything


@dataclass
class SendReport:
    """What the sender saw: every status per webhook-id, and the deliveries given up on."""

    statuses: dict[str, list[int]] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    gave_up: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, msg_id: str, status: int) -> None:
        self.statuses.setdefault(msg_id, []).append(status)

    def acknowledged(self) -> set[str]:
        """webhook-ids that got a 2xx at least once: the server promised to keep them."""
        return {m for m, seen in self.statuses.items() if any(200 <= s < 300 for s in seen)}

    def count(self, predicate: Callable[[int], bool]) -> int:
        """How many answers (retries included) ``predicate`` holds for."""
        return sum(1 for seen in self.statuses.values() for s in seen if predicate(s))


async def send_all(url: str, deliveries: list[Delivery], concurrency: int = 48,
                   retry_for: float = 60.0, report: SendReport | None = None) -> SendReport:
    """POST every delivery to ``url`` with ``concurrency`` in flight; retry 5xx/errors.
    Pass ``report`` to watch progress while it runs."""
    report = report if report is not None else SendReport()
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    for delivery in deliveries:
        queue.put_nowait(delivery)
    started = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        senders = [_sender(client, url, queue, report, retry_for) for _ in range(concurrency)]
        await asyncio.gather(*senders)
    report.seconds = time.monotonic() - started
    return report


async def _sender(client: httpx.AsyncClient, url: str, queue: asyncio.Queue[Delivery],
                  report: SendReport, retry_for: float) -> None:
    while not queue.empty():
        delivery = queue.get_nowait()
        await deliver(client, url, delivery, report, retry_for)


async def deliver(client: httpx.AsyncClient, url: str, delivery: Delivery,
                  report: SendReport, retry_for: float) -> None:
    """One delivery with Svix-like retries (short backoff: a test cannot wait hours)."""
    deadline = time.monotonic() + retry_for
    backoff = 0.1
    while True:
        try:
            response = await client.post(url, content=delivery.body, headers=delivery.headers)
            report.record(delivery.msg_id, response.status_code)
            if response.status_code < 500:
                if response.status_code < 300:
                    report.answers[response.json().get("status", "?")] += 1
                return
        except httpx.TransportError:
            report.record(delivery.msg_id, 0)  # 0: no answer (connection refused/reset)
        if time.monotonic() > deadline:
            report.gave_up.append(delivery.msg_id)
            return
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 2.0)
