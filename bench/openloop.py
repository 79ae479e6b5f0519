"""Open-loop load at a fixed rate: each delivery is sent at its scheduled time,
whether or not earlier ones have been answered (no coordinated omission), and its
latency counts from that scheduled time. Requests go out through ``bench.rawhttp``,
pre-built, so the generator's own CPU stays out of the latencies."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import rawhttp
from bench.deliveries import Delivery


@dataclass
class OpenLoopResult:
    latencies_ms: list[float] = field(default_factory=list)
    # incident name -> time.monotonic() the delivery was due to be sent, for deliveries
    # the receiver accepted (2xx). CLOCK_MONOTONIC is system-wide on Linux, so other
    # processes' monotonic stamps compare with these.
    sent_at: dict[str, float] = field(default_factory=dict)
    answered_at: dict[str, float] = field(default_factory=dict)  # when its 2xx came back
    failures: list[str] = field(default_factory=list)
    behind_ms: float = 0.0  # worst lag of a send behind its schedule (generator health)
    # The 2xx answers by the ``status`` their JSON body gives (the product answers
    # {"status": "accepted"} or {"status": "duplicate"}); "" for any other body.
    outcomes: Counter[str] = field(default_factory=Counter)
    first_due: float = 0.0  # time.monotonic() when the first delivery was due
    first_due_wall: float = 0.0  # the same moment as time.time()


async def run_open_loop(
    base_url: str, deliveries: Sequence[Delivery], rate: float,
    max_connections: int | None = None,
) -> OpenLoopResult:
    result = OpenLoopResult()
    target = urlsplit(base_url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    connections = rawhttp.Connections(host, port, max_connections)
    # Built before the clock starts: the generator's own work stays out of the figure.
    raw = [rawhttp.request_bytes(f"{host}:{port}", d.path, d.headers(), d.body)
           for d in deliveries]
    try:
        start = time.monotonic() + 0.05
        result.first_due = start
        result.first_due_wall = time.time() + (start - time.monotonic())
        tasks = []
        for index, delivery in enumerate(deliveries):
            scheduled = start + index / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            result.behind_ms = max(result.behind_ms, (time.monotonic() - scheduled) * 1000)
            tasks.append(asyncio.create_task(
                _send(connections, raw[index], delivery, scheduled, result)
            ))
        await asyncio.gather(*tasks)
    finally:
        await connections.close()
    return result


async def _send(
    connections: rawhttp.Connections, raw: bytes, delivery: Delivery, scheduled: float,
    result: OpenLoopResult,
) -> None:
    try:
        response = await connections.send(raw)
    except (OSError, asyncio.IncompleteReadError, rawhttp.ProtocolError) as exc:
        result.failures.append(f"{type(exc).__name__}: {exc}")
        return
    answered = time.monotonic()
    if 200 <= response.status < 300:
        result.latencies_ms.append((answered - scheduled) * 1000)
        result.sent_at[delivery.incident_name] = scheduled
        result.answered_at[delivery.incident_name] = answered
        result.outcomes[answer_status(response.body)] += 1
    else:
        result.failures.append(f"HTTP {response.status}")


def answer_status(body: bytes) -> str:
    """The ``status`` of a JSON answer such as {"status": "duplicate"}; "" otherwise."""
    try:
        answer = json.loads(body)
    except ValueError:
        return ""
    status = answer.get("status") if isinstance(answer, dict) else None
    return status if isinstance(status, str) else ""


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (the same definition wrk's histogram approximates)."""
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
