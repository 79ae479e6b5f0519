"""The issue's poison pill against a real server: hostile templates executing and their
node page being opened, while /healthz stays fast and webhooks keep being accepted.

The iteration budget is lifted so the clock is what stops each evaluation: every hostile
execution and every preview really costs a full second of CPU in the server.
"""

from __future__ import annotations

import base64
import secrets
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, server_process, wait_until

from bench.hostile import HOSTILE_LOOP, INTAKE_CANVAS, incident_delivery, put_canvas, signed_in

HOSTILE = f"""
name: hostile
nodes:
  - {{name: Start, type: start}}
  - name: Notify
    type: http
    configuration:
      url: "http://127.0.0.1:9/never"
      body: {{text: "{HOSTILE_LOOP}"}}
edges:
  - {{from: Start, to: Notify}}
"""
RUNS = 6  # more than the expression pool has threads
# What each hostile evaluation costs (its time budget). Two seconds keep a held loop far
# from the stalls a busy 2-core CI machine gives any process (up to ~0.6 s seen).
BUDGET_SECONDS = 2.0
BUDGET_ENV = {"INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS": str(BUDGET_SECONDS),
              "INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS": "1000000000000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("budgets") / "data", env=BUDGET_ENV) as running:
        yield running


def api(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"Authorization": f"Bearer {server.token}"})


def webhook(server: ServerProcess, client: httpx.Client) -> tuple[str, str]:
    put_canvas(client, "intake", INTAKE_CANVAS)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    answer = client.post("/api/v1/canvases/intake/nodes/On Incident/hooks/setSecret",
                         json={"webhookSigningSecret": secret})
    url = answer.json()["live"]["webhookUrl"]
    return url, secret


def deliver(url: str, secret: str, number: int) -> str:
    body, headers = incident_delivery(secret, number, "budgets")
    answer = httpx.post(url, content=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


@pytest.mark.slow
def test_server_stays_responsive_while_hostile_templates_run(server: ServerProcess,
                                                              tmp_path: Path) -> None:
    client = api(server)
    put = client.put("/api/v1/canvases/hostile", content=HOSTILE,
                     headers={"Content-Type": "application/yaml"})
    assert put.status_code == 200, put.text
    hook_url, secret = webhook(server, client)
    browser = signed_in(server.url, server.token)

    latencies: list[float] = []
    accepted: list[str] = []
    previews: list[str] = []
    stop = threading.Event()

    def probe_health() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as health:
            while not stop.is_set():
                started = time.monotonic()
                assert health.get("/healthz").status_code == 200
                latencies.append(time.monotonic() - started)
                time.sleep(0.02)

    def send_webhooks() -> None:
        for number in range(10):
            accepted.append(deliver(hook_url, secret, number))
            time.sleep(0.1)

    def open_node_page() -> None:
        for _ in range(2):
            previews.append(browser.get("/canvases/hostile/nodes/Notify").text)

    workers = [threading.Thread(target=f) for f in (probe_health, send_webhooks, open_node_page)]
    for thread in workers:
        thread.start()
    try:
        run_ids = [client.post("/api/v1/canvases/hostile/nodes/Start/run", json={}).json()["runId"]
                   for _ in range(RUNS)]

        def all_failed() -> list[dict] | None:
            runs = [client.get(f"/api/v1/runs/{run_id}").json() for run_id in run_ids]
            return runs if all(run["state"] == "failed" for run in runs) else None

        runs = wait_until(all_failed, timeout=60, interval=0.2, what="hostile runs to fail")
        workers[1].join(timeout=60)
        workers[2].join(timeout=60)
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=60)

    for run in runs:
        [execution] = run["executions"]
        assert execution["attempts"] == 1
        assert execution["error"].startswith("Notify.body.text: over the time budget")
    assert accepted == ["accepted"] * 10, accepted
    assert len(previews) == 2 and all("over the time budget" in page for page in previews)
    latencies.sort()
    slow = [latency for latency in latencies if latency >= BUDGET_SECONDS / 4]
    summary = (f"/healthz over {len(latencies)} requests: p50 "
               f"{statistics.median(latencies) * 1000:.1f} ms, {len(slow)} at or over "
               f"{BUDGET_SECONDS / 4:.1f} s, max {latencies[-1] * 1000:.1f} ms")
    print(summary)
    # A template evaluated on the event loop would hold the probe for a whole budget per
    # evaluation: a handful of answers, most of them slow, over the seconds the hostile runs
    # take. Off the loop, the loop answers at its pace; what remains is the GIL shared with
    # the evaluating threads and the machine's own stalls (a few probes of 0.4-0.6 s were
    # seen among ~90 on a busy CI machine), so the bounds count slow probes instead of
    # taking a percentile of a short sample.
    assert len(latencies) > 50, summary
    assert statistics.median(latencies) <= BUDGET_SECONDS / 20, summary
    assert len(slow) <= len(latencies) // 20, summary
    assert latencies[-1] < BUDGET_SECONDS, summary
