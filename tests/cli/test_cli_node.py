"""``incidentflow node resume`` against a live server whose worker trips the rate limit
(typer's CliRunner, real HTTP, the emulator as incident.io)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from helpers import wait_until

from .conftest import ADMIN_TOKEN, EMULATOR_KEY, Live

MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"
CANVAS = f"""
name: cli-rl
nodes:
  - {{name: Start, type: start}}
  - name: Create
    type: incident.createIncident
    integration: incident-rl
    rateLimit: {{max: 2, per: 600}}
    configuration: {{name: "from the CLI test", severityId: {MAJOR}}}
edges:
  - {{from: Start, to: Create}}
"""


def api(live: Live) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})


def run_states(client: httpx.Client) -> list[str]:
    runs = client.get("/api/v1/canvases/cli-rl/runs").json()["runs"]
    return sorted(client.get(f"/api/v1/runs/{r['id']}").json()["executions"][0]["state"]
                  for r in runs)


def held_states(client: httpx.Client, expected: list[str]) -> Any:
    return wait_until(lambda: run_states(client) == expected, 20,
                      what=f"executions {expected}, not {run_states(client)}")


def test_resume_releases_then_discards_what_a_tripped_node_holds(
        invoke: Any, live: Live, tmp_path: Path) -> None:
    client = api(live)
    answer = client.put("/api/v1/integrations/incident-rl", json={
        "type": "incident", "configuration": {"apiKey": EMULATOR_KEY,
                                              "baseUrl": live.emulator_url}})
    assert answer.status_code == 200, answer.text
    path = tmp_path / "cli-rl.yaml"
    path.write_text(CANVAS)
    assert invoke("apply", str(path)).exit_code == 0
    for _ in range(4):
        assert invoke("run", "cli-rl", "Start").exit_code == 0
    held_states(client, ["held", "held", "succeeded", "succeeded"])

    shown = invoke("canvases", "list")
    assert "Create" in shown.stdout and "(2" in shown.stdout  # the table may wrap it
    view = json.loads(invoke("canvases", "show", "cli-rl", "--json").stdout)
    assert [(t["node"], t["held"]) for t in view["trippedNodes"]] == [("Create", 2)]

    neither = invoke("node", "resume", "cli-rl", "Create")
    both = invoke("node", "resume", "cli-rl", "Create", "--release", "--discard")
    for refused in (neither, both):
        assert refused.exit_code == 1
        assert "--release or --discard" in refused.stderr
    unknown = invoke("node", "resume", "cli-rl", "Nope", "--release")
    assert unknown.exit_code == 1 and "has no node 'Nope'" in unknown.stderr

    released = invoke("node", "resume", "cli-rl", "Create", "--release")
    assert released.exit_code == 0, released.output
    assert "cli-rl/Create resumed: 2 released" in released.stdout
    held_states(client, ["succeeded"] * 4)

    for _ in range(3):  # a fresh window: two more, then it trips again
        assert invoke("run", "cli-rl", "Start").exit_code == 0
    held_states(client, ["held"] + ["succeeded"] * 6)
    discarded = invoke("node", "resume", "cli-rl", "Create", "--discard", "--json")
    assert discarded.exit_code == 0, discarded.output
    assert json.loads(discarded.stdout) == {"canvas": "cli-rl", "node": "Create",
                                            "held": "discard", "released": 0, "discarded": 1}
    held_states(client, ["discarded"] + ["succeeded"] * 6)
    assert client.get("/api/v1/canvases/cli-rl").json()["trippedNodes"] == []
