"""The endpoint cache of the receiver: how long an entry is trusted, measured on a clock
given to it (here a fake one), and what invalidates it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidentflow.canvas import Canvas, Node
from incidentflow.integrations.incidentio.trigger import OnIncident
from incidentflow.receiver import EndpointCache, Target

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def target(cache: EndpointCache, canvas: str = "c", *, valid_until: datetime | None = None
           ) -> Target:
    node = Node("Hook", "incident.onIncident")
    return Target(Canvas(canvas, (node,)), node, OnIncident(), ("whsec_x",), cache.now(),
                  secrets_valid_until=valid_until)


def test_an_entry_is_fresh_for_its_ttl_on_the_given_clock() -> None:
    clock = FakeMonotonic()
    cache = EndpointCache(ttl=5.0, monotonic=clock)
    cache.put("ep", target(cache), cache.epoch)
    clock.value += 4.9
    assert cache.get("ep", NOW) is not None
    clock.value += 0.1
    assert cache.get("ep", NOW) is None  # 5 s after it was read: read it again


def test_a_rotated_out_secret_ends_the_entry_at_the_end_of_its_grace() -> None:
    clock = FakeMonotonic()
    cache = EndpointCache(ttl=5.0, monotonic=clock)
    cache.put("ep", target(cache, valid_until=NOW + timedelta(seconds=1)), cache.epoch)
    assert cache.get("ep", NOW) is not None
    assert cache.get("ep", NOW + timedelta(seconds=1)) is None  # wall clock, not the TTL


def test_a_load_begun_before_an_invalidation_is_not_kept() -> None:
    cache = EndpointCache(monotonic=FakeMonotonic())
    epoch = cache.epoch
    cache.forget_endpoint("ep")  # e.g. the secret changed while the load read the store
    cache.put("ep", target(cache), epoch)
    assert "ep" not in cache
    cache.put("ep", target(cache), cache.epoch)
    assert "ep" in cache


def test_forgetting_a_canvas_drops_only_its_endpoints() -> None:
    cache = EndpointCache(monotonic=FakeMonotonic())
    cache.put("a1", target(cache, "a"), cache.epoch)
    cache.put("a2", target(cache, "a"), cache.epoch)
    cache.put("b1", target(cache, "b"), cache.epoch)
    cache.forget_canvas("a")
    assert ("a1" in cache, "a2" in cache, "b1" in cache) == (False, False, True)
