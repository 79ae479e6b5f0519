"""The receiver on its own, over a recording stand-in of the store: what it records for
each kind of delivery, with which code, and what the sender is told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from toys import Toy

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.components.core import Noop
from incidentflow.crypto import SecretBox
from incidentflow.errors import NotFound
from incidentflow.receiver import Receiver
from incidentflow.registry import Registry
from incidentflow.self_trigger import SelfTriggerGuard
from incidentflow.store.port import CanvasRecord, DeliveryResult, Endpoint

NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
BOX = SecretBox("k" * 32)


class RecordingStore:
    """The store calls the receiver makes (on the store's async face), remembered; one
    endpoint, "ep"."""

    def __init__(self, secrets: tuple[str, ...]):
        self.secrets = secrets
        self.rejections: list[tuple[str, str, str]] = []
        self.accepted: list[tuple[str, str | None, int]] = []
        self.endpoint_reads = 0

    @property
    def aio(self) -> RecordingStore:
        return self

    async def get_endpoint(self, endpoint_id: str, now: datetime) -> Endpoint:
        self.endpoint_reads += 1
        if endpoint_id != "ep":
            raise NotFound(endpoint_id)
        return Endpoint("ep", "c", "Hook", bool(self.secrets), self.secrets, None, {})

    async def get_canvas(self, name: str) -> CanvasRecord:
        canvas = Canvas("c", (Node("Hook", "toy"), Node("Done", "noop")), (Edge("Hook", "Done"),))
        return CanvasRecord("c", 1, canvas, "", NOW, NOW)

    async def record_rejection(self, endpoint_id: str, reason: str, now: datetime,
                         code: str = "other") -> None:
        self.rejections.append((endpoint_id, reason, code))

    async def accept_delivery(self, endpoint_id: str, webhook_id: str | None, events: list,
                              now: datetime, reason: str = "") -> DeliveryResult:
        seen = any(w == webhook_id for _, w, _ in self.accepted)
        self.accepted.append((endpoint_id, webhook_id, len(events)))
        return DeliveryResult("duplicate" if seen else "accepted", ["run"] if not seen else [])


def receiver_over(store: RecordingStore) -> Receiver:
    registry = Registry()
    registry.add_component(Toy())
    registry.add_component(Noop())
    guard = SelfTriggerGuard(store.aio, lambda: NOW, 0.0, 30.0)  # type: ignore[arg-type]
    return Receiver(store, registry, BOX, guard, clock=lambda: NOW)  # type: ignore[arg-type]


def receive(store: RecordingStore, body: bytes, endpoint: str = "ep",
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    receiver = receiver_over(store)
    return asyncio.run(receiver.receive(endpoint, headers or {}, body))


def test_an_accepted_delivery_is_routed_and_recorded_once() -> None:
    store = RecordingStore((BOX.encrypt("s"),))
    receiver = receiver_over(store)

    async def twice() -> list[tuple[int, dict[str, Any]]]:
        return [await receiver.receive("ep", {"X-Id": "d-1"}, b"ok") for _ in range(2)]

    assert asyncio.run(twice()) == [(200, {"status": "accepted"}), (200, {"status": "duplicate"})]
    assert store.accepted == [("ep", "d-1", 1), ("ep", "d-1", 1)]  # header names lower-cased
    # Waking the worker is the store's (tests/store/test_store_handoff.py), not ours.
    assert store.endpoint_reads == 1  # the second delivery found the endpoint cached


def test_a_refusal_is_recorded_with_the_triggers_code() -> None:
    store = RecordingStore((BOX.encrypt("s"),))
    assert receive(store, b"bad") == (403, {"error": "forbidden"})
    assert store.rejections == [("ep", "signature off", "bad_signature")]
    assert store.accepted == []


def test_without_a_secret_nothing_reaches_the_trigger() -> None:
    store = RecordingStore(())
    assert receive(store, b"boom") == (403, {"error": "signing secret not set"})
    assert store.rejections == [("ep", "signing secret not set", "no_secret")]


def test_a_failing_trigger_is_a_400_with_its_own_code(caplog: pytest.LogCaptureFixture) -> None:
    store = RecordingStore((BOX.encrypt("s"),))
    assert receive(store, b"boom") == (400, {"error": "bad request"})
    assert store.rejections == [("ep", "trigger failed: KeyError", "trigger_error")]


def test_an_unknown_endpoint_is_404_and_records_nothing() -> None:
    store = RecordingStore((BOX.encrypt("s"),))
    assert receive(store, b"ok", endpoint="nope") == (404, {"error": "not found"})
    assert store.rejections == [] and store.accepted == []
