"""Manual runs through the API, executed by the engine worker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from starlette.testclient import TestClient

from incidentflow.crypto import SecretBox
from incidentflow.engine.worker import Worker
from incidentflow.registry import Registry
from incidentflow.settings import Settings
from incidentflow.web.app import create_app

from .conftest import ADMIN_TOKEN, MANUAL_CANVAS, put_yaml


def drain(store: Any, registry: Registry, settings: Settings, http: httpx.AsyncClient) -> int:
    worker = Worker(store, registry, SecretBox(settings.secret_key), http, settings)
    return asyncio.run(worker.drain())


def test_a_manual_run_flows_through_the_filter(api: TestClient, store: Any,
                                               test_registry: Registry, settings: Settings,
                                               emulator_http: httpx.AsyncClient) -> None:
    put_yaml(api, "manual", MANUAL_CANVAS)
    started = api.post("/api/v1/canvases/manual/nodes/Start/run", json={"severity": "major"})
    assert started.status_code == 202
    run_id = started.json()["runId"]
    queued = api.get(f"/api/v1/runs/{run_id}").json()
    assert queued["state"] == "running"
    assert [e["state"] for e in queued["executions"]] == ["queued"]

    assert drain(store, test_registry, settings, emulator_http) == 1
    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["state"] == "succeeded"
    assert run["root"]["type"] == "start.manual"
    assert run["root"]["data"] == {"severity": "major"}
    (execution,) = run["executions"]
    assert execution["node"] == "Only majors"
    assert execution["state"] == "succeeded" and execution["attempts"] == 1
    assert execution["idempotencyKey"]
    assert execution["input"]["type"] == "start.manual"
    assert execution["emitted"]


def test_runs_list_newest_first_with_a_limit(api: TestClient) -> None:
    put_yaml(api, "manual", MANUAL_CANVAS)
    ids = [api.post("/api/v1/canvases/manual/nodes/Start/run", json={"n": n}).json()["runId"]
           for n in range(3)]
    runs = api.get("/api/v1/canvases/manual/runs").json()["runs"]
    assert [r["id"] for r in runs] == ids[::-1]
    assert len(api.get("/api/v1/canvases/manual/runs?limit=2").json()["runs"]) == 2
    for bad in ("0", "abc", "100000"):
        assert api.get(f"/api/v1/canvases/manual/runs?limit={bad}").status_code == 400


def test_bad_run_requests(api: TestClient) -> None:
    put_yaml(api, "manual", MANUAL_CANVAS)
    not_start = api.post("/api/v1/canvases/manual/nodes/Only majors/run", json={})
    assert not_start.status_code == 422
    assert not_start.json()["problems"][0]["node"] == "Only majors"
    assert api.post("/api/v1/canvases/manual/nodes/Start/run", json=[1, 2]).status_code == 400
    assert api.post("/api/v1/canvases/manual/nodes/Start/run", content=b"{bad",
                    headers={"Content-Type": "application/json"}).status_code == 400
    empty = api.post("/api/v1/canvases/manual/nodes/Start/run")
    assert empty.status_code == 202
    run = api.get(f"/api/v1/runs/{empty.json()['runId']}").json()
    assert run["root"]["data"] == {}


def test_the_app_runs_workers_in_its_lifespan(settings: Settings, store: Any,
                                             test_registry: Registry,
                                             emulator_http: httpx.AsyncClient) -> None:
    app = create_app(settings, store=store, registry=test_registry, http=emulator_http,
                     start_workers=True)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
        put_yaml(api, "manual", MANUAL_CANVAS)
        run_id = api.post("/api/v1/canvases/manual/nodes/Start/run",
                          json={"severity": "minor"}).json()["runId"]
        run = wait_for_finished_run(api, run_id)
    assert run["state"] == "succeeded"
    assert run["executions"][0]["state"] == "succeeded"


def wait_for_finished_run(api: TestClient, run_id: str, timeout: float = 10.0) -> dict:
    """Poll until the run leaves "running" (the worker is woken at once; this only waits)."""
    deadline = time.monotonic() + timeout
    while True:
        run = api.get(f"/api/v1/runs/{run_id}").json()
        if run["state"] != "running" or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.02)
