"""The alert storm's deliveries and what should come of them.

A storm is ``total`` signed deliveries to a ``webhook`` trigger (Standard Webhooks).
Every ``duplicate_every``-th one is a redelivery (same webhook-id, body and signature) of
a delivery sent ``DUPLICATE_LAG`` places earlier, a few milliseconds before at the
storm's rate, so some arrive while the first is still being recorded; every
``info_every``-th distinct alert has severity "info" and is dropped by the canvas's
filter. What must come out: each distinct delivery accepted once, each redelivery
answered as a duplicate, and exactly one alert event per passing alert at the fake.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from bench import signing
from bench.canvases import STORM_FILTERED_SEVERITY
from bench.deliveries import Delivery

DUPLICATE_EVERY = 20
INFO_EVERY = 4
DUPLICATE_LAG = 25


@dataclass(frozen=True)
class StormPlan:
    deliveries: list[Delivery]  # in sending order, redeliveries included
    distinct: int
    redeliveries: int
    passing_keys: frozenset[str]  # alert keys that pass the filter: one event each

    @property
    def filtered(self) -> int:
        return self.distinct - len(self.passing_keys)


def alert_body(tag: str, number: int) -> tuple[bytes, str, str]:
    """One alert as a monitoring tool would send it; returns (body, key, severity)."""
    key = f"storm-{tag}-{number}"
    severity = STORM_FILTERED_SEVERITY if number % INFO_EVERY == 0 else "critical"
    payload = {
        "status": "firing",
        "key": key,
        "title": f"checkout p99 latency above 2s on pod {number % 97}",
        "severity": severity,
        "service": "checkout",
        "labels": {"team": "payments", "region": "eu-west-1", "alertname": "HighLatency"},
        "annotations": {"runbook": "https://runbooks.example/checkout-latency"},
        "startsAt": "2026-12-03T12:00:00Z",
    }
    return json.dumps(payload, separators=(",", ":")).encode(), key, severity


def plan(path: str, secret: str, total: int, tag: str, now: int) -> StormPlan:
    key = signing.secret_key(secret)
    sent: list[Delivery] = []
    distinct: list[Delivery] = []
    passing: set[str] = set()
    for position in range(total):
        if position % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 and distinct:
            sent.append(distinct[max(0, len(distinct) - DUPLICATE_LAG)])
            continue
        body, alert_key, severity = alert_body(tag, len(distinct))
        webhook_id = f"msg_storm_{tag}_{len(distinct)}"
        signature = signing.sign(key, webhook_id, now, body)
        delivery = Delivery(path, webhook_id, now, signature, body, alert_key)
        distinct.append(delivery)
        sent.append(delivery)
        if severity != STORM_FILTERED_SEVERITY:
            passing.add(alert_key)
    return StormPlan(sent, len(distinct), total - len(distinct), frozenset(passing))


@dataclass(frozen=True)
class FakeCount:
    """What reached the fake incident.io, against the plan."""

    expected: int
    received: int  # alert events, all keys
    missing: int  # passing alerts with no event
    doubled: int  # alerts with more than one event
    unexpected: int  # events for keys that should have been filtered (or never sent)

    @property
    def ok(self) -> bool:
        return self.missing == self.doubled == self.unexpected == 0


def count_at_fake(expected: frozenset[str], events: Mapping[str, int]) -> FakeCount:
    return FakeCount(
        expected=len(expected),
        received=sum(events.values()),
        missing=len(expected - events.keys()),
        doubled=sum(1 for count in events.values() if count > 1),
        unexpected=len(events.keys() - expected),
    )
