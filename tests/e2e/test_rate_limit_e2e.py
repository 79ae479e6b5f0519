"""The create rate limit end to end: ``incidentflow serve`` and ``incidentflow emulator``
as real processes on 127.0.0.1. Fifteen manual runs of Start -> Create Incident open
exactly ten incidents (the default limit, 10 per 60 s), hold five and show the node
tripped; ``incidentflow node resume --release`` opens the other five."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest
from helpers import ServerProcess, cli_command, wait_until

from .test_incident_e2e import EMULATOR_KEY, MAJOR, emulator_process, ok

CANVAS = f"""
name: opener
nodes:
  - {{name: Start, type: start}}
  - name: Create
    type: incident.createIncident
    integration: incident
    configuration: {{name: "Opened by run {{{{ run.id }}}}", severityId: {MAJOR}}}
edges:
  - {{from: Start, to: Create}}
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulator_process(tmp_path_factory.mktemp("emulator")) as url:
        yield url


def incidents(emulator: str) -> int:
    listed = ok(httpx.get(f"{emulator}/v2/incidents", params={"page_size": 100},
                          headers={"Authorization": f"Bearer {EMULATOR_KEY}"}))
    return len(listed["incidents"])


def execution_states(api: httpx.Client) -> list[str]:
    runs = ok(api.get("/api/v1/canvases/opener/runs"))["runs"]
    return sorted(ok(api.get(f"/api/v1/runs/{r['id']}"))["executions"][0]["state"]
                  for r in runs)


@pytest.mark.slow
def test_fifteen_runs_open_ten_incidents_hold_five_and_release_opens_the_rest(
        server: ServerProcess, emulator: str) -> None:
    api = httpx.Client(base_url=server.url, timeout=10,
                       headers={"Authorization": f"Bearer {server.token}"})
    ok(api.put("/api/v1/integrations/incident", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": emulator}}))
    ok(api.put("/api/v1/canvases/opener", content=CANVAS,
               headers={"Content-Type": "application/yaml"}))
    before = incidents(emulator)
    for _ in range(15):
        ok(api.post("/api/v1/canvases/opener/nodes/Start/run", json={}))

    expected = ["held"] * 5 + ["succeeded"] * 10
    wait_until(lambda: execution_states(api) == expected, 30, what="10 run and 5 held")
    assert incidents(emulator) - before == 10
    view = ok(api.get("/api/v1/canvases/opener"))
    assert [(t["node"], t["held"]) for t in view["trippedNodes"]] == [("Create", 5)]
    assert view["rateLimits"]["Create"]["max"] == 10  # the global default
    assert view["rateLimits"]["Create"]["per"] == 60
    assert "rate limit tripped: canvas=opener node=Create" in server.log()

    resumed = subprocess.run(cli_command("node", "resume", "opener", "Create", "--release"),
                             env=server.client_env(), capture_output=True, text=True,
                             timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert "opener/Create resumed: 5 released" in resumed.stdout
    wait_until(lambda: execution_states(api) == ["succeeded"] * 15, 30,
               what="the released five to run")
    assert incidents(emulator) - before == 15
    assert ok(api.get("/api/v1/canvases/opener"))["trippedNodes"] == []
    assert server.log().count("rate limit tripped") == 1  # once per trip
