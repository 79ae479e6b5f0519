"""A canvas that would feed itself, in process, on SQLite and PostgreSQL: On Incident ->
Create Incident with the defaults the UI gives (public, no filter). The emulator sends
its webhooks straight to our app, so the follow-up's own ``incident_created`` comes
back exactly as it did in the issue; the self-trigger guard must ignore it, also when
it arrives before the create call has returned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from flow_support import EMULATOR_KEY, MAJOR, PUBLIC_URL, Clock, Flow, Switchable, new_secret

from incidentflow.emulator import EmulatorState, create_emulator_app
from incidentflow.engine.retry import RetryPolicy
from incidentflow.engine.worker import Worker
from incidentflow.events import utcnow
from incidentflow.registry import Registry
from incidentflow.settings import Settings
from incidentflow.web.app import create_app

LOOP = f"""
name: mirror
nodes:
  - {{name: On Incident, type: incident.onIncident}}
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "Follow-up: {{{{ root.data.incident.name }}}}"
      severityId: {MAJOR}
edges:
  - {{from: On Incident, to: Open follow-up}}
"""


class Later(httpx.AsyncBaseTransport):
    """The emulator's way to our app, known only once the app exists."""

    inner: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.inner is not None
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def flow(tmp_path: Path, database_url: str, store: Any, test_registry: Registry,
               sleeps: list[float]) -> AsyncIterator[Flow]:
    settings = Settings.from_env(
        {}, data_dir=tmp_path / "data", database_url=database_url, public_url=PUBLIC_URL,
        admin_token="ifa_flow_" + "L" * 32, secret_key="loop-test-secret-key",
    )
    state, to_us = EmulatorState(), Later()
    emulator = create_emulator_app(state, api_keys=EMULATOR_KEY, transport=to_us,
                                   retry_schedule=(0, 0.05))
    network = Switchable(httpx.ASGITransport(app=emulator))
    http = httpx.AsyncClient(transport=network)
    clock = Clock(utcnow())
    app = create_app(settings, store=store, registry=test_registry, http=http,
                     start_workers=False)
    to_us.inner = httpx.ASGITransport(app=app)
    app.state.host.clock = clock
    worker = Worker(store, test_registry, app.state.host.box, http, settings, clock=clock,
                    policy=RetryPolicy(jitter=0))
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL,
                            headers={"Authorization": f"Bearer {settings.admin_token}"})
    incidentio = httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator),
                                   base_url="http://incidentio.test")
    yield Flow(app, worker, clock, web, incidentio, network, state, database_url, sleeps)
    await incidentio.post("/_emulator/reset")  # stops deliveries still in flight
    for client in (web, incidentio, http):
        await client.aclose()


async def wired(flow: Flow) -> None:
    """As a person would: integration, the canvas, its secret, incident.io's endpoint."""
    assert (await flow.connect_integration())["status"] == "ready"
    response = await flow.apply(LOOP)
    assert response.status_code == 200, response.text
    secret = new_secret()
    live = await flow.set_secret(secret)
    endpoint = {"url": live["webhookUrl"], "secret": secret}
    (await flow.incidentio.post("/_emulator/webhook-endpoints", json=endpoint)).raise_for_status()


async def work(flow: Flow) -> int:
    """Run what is due; a canvas feeding itself would never stop, so bounded."""
    with anyio.fail_after(30):
        return await flow.work()


async def settle(flow: Flow) -> list[dict[str, Any]]:
    drained = (await flow.incidentio.post("/_emulator/deliveries/drain?timeout=20")).json()
    assert drained["settled"], drained
    return list(drained["deliveries"])


async def declare(flow: Flow, name: str) -> dict[str, Any]:
    answer = await flow.incidentio.post("/_emulator/incidents",
                                        json={"name": name, "severity_id": MAJOR})
    return dict(answer.json()["incident"])


def watch_guard(flow: Flow) -> list[Any]:
    """Every answer the guard got from the store (a spy: the store still answers)."""
    store, seen = flow.host.store, []
    real = store.self_created

    def spied(*args: Any) -> Any:
        found = real(*args)
        seen.append(found)
        return found

    store.self_created = spied
    return seen


async def assert_one_follow_up(flow: Flow, declared: dict[str, Any]) -> None:
    await settle(flow)
    assert await work(flow) == 0  # the follow-up's webhook started nothing
    incidents = flow.incidents()
    assert [i["name"] for i in incidents] == [declared["name"], f"Follow-up: {declared['name']}"]
    follow_up = incidents[1]
    [run] = await flow.runs()
    assert run.root.data["incident"]["id"] == declared["id"]
    newest, first = await flow.deliveries()
    assert (first.outcome, first.run_id) == ("accepted", run.id)
    assert newest.outcome == "ignored" and newest.run_id is None
    assert newest.reason == (f"self-triggered: incident.incident {follow_up['id']} was "
                             f"created by this canvas (run {run.id})")
    live = await flow.live()
    assert live["deliveries"]["ignored"] == 1 and live["deliveries"]["accepted"] == 1


async def test_the_follow_up_does_not_start_its_own_canvas(flow: Flow) -> None:
    await wired(flow)
    declared = await declare(flow, "Checkout is down")
    await settle(flow)
    assert await work(flow) == 1  # the one run: Open follow-up
    await assert_one_follow_up(flow, declared)


async def test_the_guard_holds_when_the_webhook_overtakes_the_create_answer(flow: Flow) -> None:
    await wired(flow)
    declared = await declare(flow, "Payments are slow")
    await settle(flow)
    timing = {"webhook_lead_seconds": 0.5}
    (await flow.incidentio.post("/_emulator/timing", json=timing)).raise_for_status()
    seen = watch_guard(flow)
    assert await work(flow) == 1
    await assert_one_follow_up(flow, declared)
    # The race happened: the delivery found the create still in flight and waited.
    assert any(found.in_flight for found in seen)
    assert seen[-1].created_by is not None
