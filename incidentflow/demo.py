"""`incidentflow demo`: the whole product in one command, no incident.io account needed.

Starts the incident.io emulator and the server as child processes, connects them,
applies `examples/mirror-major-incidents.yaml`, opens a major incident in the emulator
and prints the run as it flows. Everything talks over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from incidentflow.components.base import WebhookTrigger

EXAMPLE = Path(__file__).parent / "examples" / "mirror-major-incidents.yaml"
EMULATOR_KEY = "demo-api-key"
CANVAS = "mirror-major-incidents"
TRIGGER = "On Incident"


def run_demo(port: int, emulator_port: int, keep: bool, console: Console) -> int:
    token = "ifa_demo_" + secrets.token_urlsafe(16)
    signing_secret = "whsec_" + _b64(secrets.token_bytes(24))
    with tempfile.TemporaryDirectory(prefix="incidentflow-demo-") as data_dir:
        server_url = f"http://127.0.0.1:{port}"
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        with _child(console, "emulator", ["emulator", "--port", str(emulator_port),
                                          "--api-key", EMULATOR_KEY], {}), \
             _child(console, "server", ["serve", "--port", str(port)], {
                 "INCIDENTFLOW_DATA_DIR": data_dir,
                 "INCIDENTFLOW_ADMIN_TOKEN": token,
                 "INCIDENTFLOW_PUBLIC_URL": server_url,
             }):
            _wait_ready(f"{emulator_url}/_emulator/webhook-endpoints", console, "emulator")
            _wait_ready(f"{server_url}/healthz", console, "server")
            api = httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {token}"})
            emulator = httpx.Client(base_url=emulator_url,
                                    headers={"Authorization": f"Bearer {EMULATOR_KEY}"})
            run_id = _flow(api, emulator, emulator_url, signing_secret, console)
            ok = _follow_run(api, run_id, console) if run_id else False
            shown = _show_follow_up(emulator, console)
            if keep:
                console.print(f"\n[bold]Still running.[/] UI: {server_url}/  token: {token}"
                              "\nPress Ctrl-C to stop.")
                _sleep_forever()
            return 0 if ok and shown else 1


def _flow(api: httpx.Client, emulator: httpx.Client, emulator_url: str,
          signing_secret: str, console: Console) -> str | None:
    step = console.print
    step("[bold]1.[/] Connect the incident.io integration (to the emulator)")
    integration = _ok(api.put("/api/v1/integrations/incident", json={
        "type": "incident",
        "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": emulator_url},
    }))
    step(f"   status: [green]{integration['status']}[/]")
    severities = _ok(api.get("/api/v1/integrations/incident/resources",
                             params={"type": "severity"}))["resources"]
    major = next(s for s in severities if s["name"] == "Major")
    step(f"   severities: {', '.join(s['name'] for s in severities)}")

    step(f"[bold]2.[/] Apply the canvas {CANVAS} (On Incident → filter → Create Incident)")
    source = EXAMPLE.read_text().replace("SEVERITY_ID", major["id"])
    saved = _ok(api.put(f"/api/v1/canvases/{CANVAS}", content=source,
                        headers={"Content-Type": "application/yaml"}))
    step(f"   saved version {saved['version']}")
    node = _trigger_node(_ok(api.get(f"/api/v1/canvases/{CANVAS}")))
    webhook_url = node["live"]["webhookUrl"]
    step(f"   webhook URL: {webhook_url}")

    step("[bold]3.[/] Register the endpoint in incident.io and Set signing secret")
    _ok(emulator.post("/_emulator/webhook-endpoints",
                      json={"url": webhook_url, "secret": signing_secret}))
    hook = f"/api/v1/canvases/{CANVAS}/nodes/{TRIGGER}/hooks/{WebhookTrigger.SECRET_HOOK}"
    _ok(api.post(hook, json={WebhookTrigger.SECRET_PARAM: signing_secret}))
    step("   signing secret set (stored encrypted, never shown again)")

    step("[bold]4.[/] Someone declares a major incident in incident.io")
    opened = _ok(emulator.post("/_emulator/incidents", json={
        "name": "Checkout API returning 502s",
        "summary": "Error rate above 20% on checkout since 14:02.",
        "severity_id": major["id"],
    }))
    incident = opened.get("incident", opened)
    step(f"   opened {incident.get('reference')} “{escape(str(incident.get('name')))}”")
    return _wait_for_run(api, console)


def _trigger_node(view: dict[str, Any]) -> dict[str, Any]:
    return next(n for n in view["nodes"] if n["name"] == TRIGGER)


def _wait_for_run(api: httpx.Client, console: Console, timeout: float = 15) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _ok(api.get(f"/api/v1/canvases/{CANVAS}/runs"))["runs"]
        if runs:
            return str(runs[0]["id"])
        time.sleep(0.2)
    console.print("[red]No run appeared: the webhook did not reach the canvas.[/]")
    return None


def _follow_run(api: httpx.Client, run_id: str, console: Console, timeout: float = 30) -> bool:
    console.print(f"[bold]5.[/] The run {run_id} flows:")
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _ok(api.get(f"/api/v1/runs/{run_id}"))
        for execution in run["executions"]:
            key = execution["id"]
            if seen.get(key) != execution["state"]:
                seen[key] = execution["state"]
                console.print(f"   {execution['node']:<16} {_state(execution)}")
        if run["state"] != "running":
            return bool(run["state"] == "succeeded")
        time.sleep(0.2)
    console.print("[red]The run did not finish in time.[/]")
    return False


def _state(execution: dict[str, Any]) -> str:
    state = execution["state"]
    colour = {"succeeded": "green", "failed": "red"}.get(state, "yellow")
    text = f"[{colour}]{state}[/]"
    if execution.get("error"):
        text += f"  {escape(str(execution['error']))}"
    return text


def _show_follow_up(emulator: httpx.Client, console: Console) -> bool:
    """Print the follow-up incident the canvas opened; False when there is none."""
    incidents = _ok(emulator.get("/v2/incidents"))["incidents"]
    shown = False
    for incident in incidents:
        if incident["name"].startswith("[follow-up]"):
            # escape: "[follow-up]" would otherwise be read as Rich markup and vanish.
            console.print(f"[bold]6.[/] incident.io now has {incident['reference']} "
                          f"“{escape(incident['name'])}” ({incident['visibility']})")
            shown = True
    if not shown:
        console.print("[red]incident.io has no follow-up incident.[/]")
    return shown


@contextmanager
def _child(console: Console, label: str, args: list[str], env: dict[str, str]) -> Iterator[None]:
    # The log outlives the demo (its path is printed) so a failure can be read afterwards.
    with tempfile.NamedTemporaryFile(prefix=f"incidentflow-demo-{label}-", suffix=".log",
                                     delete=False) as log:
        process = subprocess.Popen([sys.executable, "-m", "incidentflow", *args],
                                   env={**os.environ, **env}, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        console.print(f"[dim]{label} log: {log.name}[/]")


def _wait_ready(url: str, console: Console, label: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the {label} did not start within {timeout:.0f}s ({url})")


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise SystemExit(f"{response.request.method} {response.request.url.path} failed: "
                         f"{response.status_code} {response.text}")
    return response.json()


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


def _sleep_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
