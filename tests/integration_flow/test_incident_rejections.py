"""Every way a webhook is refused: the answer, nothing stored, the reason recorded.

Also secret rotation (docs/design-rules.md, "Secret rotation grace"): the previous
secret stays valid for 24 hours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flow_support import CREATED, Flow, canvas_yaml, new_secret

from incidentflow.app_service import AppService
from incidentflow.web.webhooks import MAX_BODY_BYTES

BODY = json.dumps({"event_type": CREATED, CREATED: {"id": "01F", "name": "DB"}}).encode()


async def applied(flow: Flow) -> None:
    await flow.connect_integration()
    assert (await flow.apply(canvas_yaml())).status_code == 200


async def assert_nothing_stored(flow: Flow) -> None:
    assert await flow.runs() == []
    assert flow.count("events") == 0 and flow.count("runs") == 0


async def test_no_secret_set_is_403_with_the_reason(flow: Flow) -> None:
    await applied(flow)
    response = await flow.deliver(new_secret(), BODY)
    assert response.status_code == 403
    assert response.json() == {"error": "signing secret not set"}
    await assert_nothing_stored(flow)
    live = await flow.live()
    assert live["deliveries"]["rejected"] == 1 and live["operational"] is False
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "rejected" and delivery.reason == "signing secret not set"


def drop(header: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda headers: {k: v for k, v in headers.items() if k != header}


def bad_signature(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "webhook-signature": "v1," + "A" * 43 + "="}


@pytest.mark.parametrize("tamper, reason", [
    (drop("webhook-id"), "webhook-id"),
    (drop("webhook-timestamp"), "webhook-timestamp"),
    (drop("webhook-signature"), "webhook-signature"),
    (bad_signature, "signature"),
])
async def test_missing_headers_and_a_bad_signature_are_403(
    flow: Flow, tamper: Callable[[dict[str, str]], dict[str, str]], reason: str
) -> None:
    await applied(flow)
    secret = new_secret()
    await flow.set_secret(secret)
    headers = tamper(flow.signed(secret, BODY))
    response = await flow.post(await flow.endpoint_id(), BODY, headers)
    assert response.status_code == 403 and response.json() == {"error": "forbidden"}
    await assert_nothing_stored(flow)
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "rejected" and reason in delivery.reason
    assert (await flow.live())["deliveries"]["rejected"] == 1


@pytest.mark.parametrize("skew", [-301, 301])
async def test_a_timestamp_more_than_5_minutes_off_is_403(flow: Flow, skew: int) -> None:
    await applied(flow)
    secret = new_secret()
    await flow.set_secret(secret)
    response = await flow.deliver(secret, BODY, skew=skew)
    assert response.status_code == 403
    await assert_nothing_stored(flow)
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "rejected" and "timestamp" in delivery.reason


@pytest.mark.parametrize("skew", [-299, 299])
async def test_a_timestamp_within_5_minutes_is_accepted(flow: Flow, skew: int) -> None:
    await applied(flow)
    secret = new_secret()
    await flow.set_secret(secret)
    assert (await flow.deliver(secret, BODY, skew=skew)).status_code == 200


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not JSON"),
    (json.dumps({"incident": {"id": "01F"}}).encode(), "no event_type"),
])
async def test_signed_but_unreadable_bodies_are_400(flow: Flow, body: bytes,
                                                   reason: str) -> None:
    await applied(flow)
    secret = new_secret()
    await flow.set_secret(secret)
    response = await flow.deliver(secret, body)
    assert response.status_code == 400 and response.json() == {"error": "bad request"}
    await assert_nothing_stored(flow)
    [delivery] = await flow.deliveries()
    assert delivery.outcome == "rejected" and reason in delivery.reason


async def test_a_body_over_512_kib_is_413(flow: Flow) -> None:
    await applied(flow)
    secret = new_secret()
    await flow.set_secret(secret)
    assert MAX_BODY_BYTES == 512 * 1024
    body = b" " * (MAX_BODY_BYTES + 1)
    response = await flow.deliver(secret, body)
    assert response.status_code == 413
    await assert_nothing_stored(flow)


async def test_an_unknown_endpoint_is_404(flow: Flow) -> None:
    await applied(flow)
    secret = new_secret()
    await flow.set_secret(secret)
    response = await flow.post("AAAAAAAAAAAAAAAAAAAAAA", BODY, flow.signed(secret, BODY))
    assert response.status_code == 404 and response.json() == {"error": "not found"}
    await assert_nothing_stored(flow)
    assert flow.count("deliveries") == 0


# -- rotation -----------------------------------------------------------------------------


def fresh_host(flow: Flow) -> AppService:
    """Another process on the same store (no cached endpoint), sharing the clock."""
    old = flow.host
    return AppService(old.settings, old.store, old.registry, old.box, old.http, clock=flow.clock)


async def status_with(host: AppService, flow: Flow, secret: str) -> int:
    endpoint_id = await flow.endpoint_id()
    status, _ = await host.receiver.receive(endpoint_id, flow.signed(secret, BODY), BODY)
    return status


async def test_the_previous_secret_is_valid_for_24_hours_after_a_change(flow: Flow) -> None:
    await applied(flow)
    old, new = new_secret(), new_secret()
    await flow.set_secret(old)
    await flow.set_secret(new)
    flow.clock.advance(hours=23, minutes=59)
    assert await status_with(fresh_host(flow), flow, old) == 200
    assert await status_with(fresh_host(flow), flow, new) == 200
    flow.clock.advance(minutes=2)
    assert await status_with(fresh_host(flow), flow, old) == 403
    assert await status_with(fresh_host(flow), flow, new) == 200


async def test_a_cached_endpoint_still_ends_the_grace_period_on_time(flow: Flow) -> None:
    """The same host (its endpoint cache warm) refuses the old secret once 24 h passed."""
    await applied(flow)
    old, new = new_secret(), new_secret()
    await flow.set_secret(old)
    await flow.set_secret(new)
    assert await status_with(flow.host, flow, old) == 200  # warms the cache
    flow.clock.advance(hours=24, minutes=1)
    assert await status_with(flow.host, flow, old) == 403
    assert await status_with(flow.host, flow, new) == 200


async def test_clearing_the_secret_drops_both(flow: Flow) -> None:
    await applied(flow)
    old, new = new_secret(), new_secret()
    await flow.set_secret(old)
    await flow.set_secret(new)
    cleared = await flow.set_secret("")
    assert cleared["signingSecretConfigured"] is False
    for secret in (old, new):
        response = await flow.deliver(secret, BODY)
        assert response.status_code == 403
        assert response.json() == {"error": "signing secret not set"}
    await assert_nothing_stored(flow)


# -- the endpoint cache ----------------------------------------------------------------------

async def test_concurrent_deliveries_after_the_cache_expires_read_the_endpoint_once(
    flow: Flow, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import time

    from incidentflow.receiver import EndpointCache

    await applied(flow)
    secret = new_secret()
    await flow.set_secret(secret)
    endpoint_id = await flow.endpoint_id()
    reads: list[str] = []
    real = store.get_endpoint  # the flow's store itself, under the host's metering

    def counting(endpoint: str, now):  # type: ignore[no-untyped-def]
        reads.append(endpoint)
        time.sleep(0.05)  # a slow read: the other deliveries arrive meanwhile
        return real(endpoint, now)

    monkeypatch.setattr(store, "get_endpoint", counting)
    seconds = [0.0]  # the cache's monotonic clock, moved by hand
    flow.host.receiver.cache = EndpointCache(ttl=5.0, monotonic=lambda: seconds[0])
    bodies = [json.dumps({"event_type": CREATED, CREATED: {"id": f"01F{n}", "name": "DB"}})
              .encode() for n in range(9)]
    assert (await flow.deliver(secret, bodies.pop())).status_code == 200  # cached now
    seconds[0] += 5.0  # ... and stale
    reads.clear()
    answers = await asyncio.gather(*(flow.deliver(secret, body) for body in bodies))
    assert [a.status_code for a in answers] == [200] * 8
    assert reads == [endpoint_id]  # one read for the eight of them


async def test_a_secret_set_while_the_endpoint_loads_is_not_overwritten(flow: Flow) -> None:
    import asyncio

    await applied(flow)
    old, new = new_secret(), new_secret()
    await flow.set_secret(old)
    endpoint_id = await flow.endpoint_id()
    receiver = flow.host.receiver
    receiver.cache.clear()
    loading = asyncio.ensure_future(receiver.target(endpoint_id, flow.clock()))
    await asyncio.sleep(0)  # the load has started reading
    await flow.set_secret(new)  # meanwhile: must win over the load in flight
    await loading
    assert endpoint_id not in receiver.cache  # the stale load was not cached
    target = await receiver.target(endpoint_id, flow.clock())
    assert new in target.secrets
