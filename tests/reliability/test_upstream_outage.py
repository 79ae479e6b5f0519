"""Fault: incident.io answers 500 and 429 (Retry-After: 1) for a window of seconds.

In-process (the retry base is not a setting, so the worker gets a RetryPolicy with a
0.1 s base): deliveries arrive, the outage starts, the worker runs. Claim: every
Create Incident execution fails at first, retries with its idempotency key, and
finishes once the window closes; one incident per delivery. The full one-minute
window against real processes: ``scripts/prove_upstream_outage.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from incidentflow.crypto import SecretBox
from incidentflow.engine.retry import RetryPolicy
from incidentflow.engine.wakeup import Wakeup
from incidentflow.engine.worker import Worker
from incidentflow.registry import default_registry
from incidentflow.settings import Settings
from incidentflow.store.sql import SqlStore
from incidentflow.web.app import create_app

from .canvases import MINOR, MIRROR_CANVAS, new_signing_secret
from .deliveries import make_deliveries
from .ledger import read_ledger
from .proof_emulator import ProofEmulator

try:
    from _logscan import known_secret
except ImportError:  # pragma: no cover
    def known_secret(value: str) -> None:
        pass

KEY = "outage-proof-api-key"
EMULATOR = "http://emulator.test"
PUBLIC = "http://flows.test"
WINDOW_SECONDS = 3.0
DELIVERIES = 10  # 8 distinct incidents, 2 resends


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'outage.db'}"


async def test_executions_retry_through_an_outage(tmp_path: Path, database_url: str) -> None:
    known_secret(KEY)
    emulator = ProofEmulator(KEY)
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=database_url,
                                 public_url=PUBLIC, admin_token="ifa_outage_" + "B" * 32,
                                 secret_key="outage-proof-secret-key")
    store = SqlStore(database_url, default_registry())
    store.migrate()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(emulator.app),
                                 base_url=EMULATOR) as upstream:
        app = create_app(settings, store=store, http=upstream, start_workers=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=PUBLIC,
                                     headers={"Authorization": f"Bearer {settings.admin_token}"}
                                     ) as client:
            path, secret = await _prepare(client)
            unique = await _deliver(client, path, secret)
        emulator.outage.until = time.monotonic() + WINDOW_SECONDS
        await _work_until_done(store, settings, upstream, database_url, unique)
    store.close()

    ledger = read_ledger(database_url)
    assert ledger.runs_by_state == {"succeeded": unique}
    assert ledger.executions_by_state == {"succeeded": unique}
    assert min(ledger.attempts_by_count) >= 2, ledger.attempts_by_count  # all met the outage
    assert emulator.outage.failed >= unique
    names = Counter(i["name"] for i in emulator.state.incidents)
    assert len(names) == unique and set(names.values()) == {1}
    assert len(emulator.state.idempotency_keys) == unique


async def _prepare(client: httpx.AsyncClient) -> tuple[str, str]:
    answer = await client.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": KEY, "baseUrl": EMULATOR}})
    assert answer.json()["status"] == "ready", answer.text
    canvas = MIRROR_CANVAS.replace("SEVERITY_ID", MINOR)
    saved = await client.put("/api/v1/canvases/mirror", content=canvas,
                             headers={"Content-Type": "application/yaml"})
    assert saved.status_code == 200, saved.text
    secret = new_signing_secret()
    known_secret(secret)
    hook = await client.post("/api/v1/canvases/mirror/nodes/On Incident/hooks/setSecret",
                             json={"webhookSigningSecret": secret})
    return hook.json()["live"]["webhookUrl"].removeprefix(PUBLIC), secret


async def _deliver(client: httpx.AsyncClient, path: str, secret: str) -> int:
    seen = set()
    for delivery in make_deliveries(secret, DELIVERIES):
        answer = await client.post(path, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200, answer.text
        seen.add(delivery.msg_id)
    return len(seen)


async def _work_until_done(store: SqlStore, settings: Settings, http: httpx.AsyncClient,
                           database_url: str, unique: int) -> None:
    worker = Worker(store, default_registry(), SecretBox(settings.secret_key), http, settings,
                    Wakeup(poll_seconds=0.05), policy=RetryPolicy(limit=30, base_seconds=0.1))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 60
    try:
        while not _finished(database_url, unique):
            assert time.monotonic() < deadline, "executions did not finish after the outage"
            assert not running.done(), "the worker stopped"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await running


def _finished(database_url: str, unique: int) -> bool:
    ledger = read_ledger(database_url)
    return ledger.runs == unique and ledger.unfinished == 0
