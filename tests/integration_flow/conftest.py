"""Fixtures for in-process flows: ``flow`` (see ``flow_support.Flow``) on SQLite and on
PostgreSQL (``database_url`` from tests/conftest.py), incident.io played by the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flow_support import EMULATOR_KEY, EMULATOR_URL, PUBLIC_URL, Clock, Flow, Switchable

from incidentflow.components import core
from incidentflow.emulator import EmulatorState, create_emulator_app
from incidentflow.engine.retry import RetryPolicy
from incidentflow.engine.worker import Worker
from incidentflow.events import utcnow
from incidentflow.integrations.incidentio import IncidentIntegration
from incidentflow.integrations.incidentio.action import CreateIncident
from incidentflow.registry import Registry
from incidentflow.settings import Settings
from incidentflow.web.app import create_app


@pytest.fixture
def sleeps() -> list[float]:
    """The client's in-place pauses between quick retries, recorded instead of slept."""
    return []


@pytest.fixture
def test_registry(sleeps: list[float]) -> Registry:
    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    registry = Registry()
    for component in core.all_components():
        registry.add_component(component)
    registry.add_integration(IncidentIntegration())
    registry.add_component(CreateIncident(sleep=no_sleep))
    return registry


@pytest.fixture
async def flow(tmp_path: Path, database_url: str, store: Any, test_registry: Registry,
               sleeps: list[float]) -> AsyncIterator[Flow]:
    settings = Settings.from_env(
        {}, data_dir=tmp_path / "data", database_url=database_url, public_url=PUBLIC_URL,
        admin_token="ifa_flow_" + "F" * 32, secret_key="flow-test-secret-key",
    )
    state = EmulatorState()
    emulator = create_emulator_app(state, api_keys=EMULATOR_KEY)
    network = Switchable(httpx.ASGITransport(app=emulator))
    http = httpx.AsyncClient(transport=network)
    clock = Clock(utcnow())
    app = create_app(settings, store=store, registry=test_registry, http=http,
                     start_workers=False)
    app.state.host.clock = clock
    host = app.state.host
    worker = Worker(store, test_registry, host.box, http, settings, clock=clock,
                    policy=RetryPolicy(jitter=0))
    web = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL,
        headers={"Authorization": f"Bearer {settings.admin_token}"},
    )
    incidentio = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator), base_url=EMULATOR_URL,
        headers={"Authorization": f"Bearer {EMULATOR_KEY}"},
    )
    yield Flow(app, worker, clock, web, incidentio, network, state, database_url, sleeps)
    for client in (web, incidentio, http):
        await client.aclose()
