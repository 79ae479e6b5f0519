"""Hostile input for the responsiveness figure and ``scripts/prove_safety.py``: a
template that would run for hours, a dense canvas, a ``/healthz`` probe and a steady
sender of signed deliveries, each in its own thread.

Everything here talks HTTP to a running ``incidentflow serve``; nothing imports the
product's internals except the Standard Webhooks signer.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from incidentflow.integrations.incidentio.signature import sign

PROBE_TIMEOUT = 5.0
PROBE_INTERVAL = 0.02
# 10^10 loop rounds and a 10 MB string: hours of work and a huge value without budgets.
HOSTILE_LOOP = (
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
)
HOSTILE_CANVAS = f"""
name: hostile
nodes:
  - {{name: Start, type: start}}
  - name: Loop
    type: http
    configuration:
      method: POST
      url: "SINK/hostile"
      body: {{loop: "{HOSTILE_LOOP}", wide: "{{{{ 'a'|center(10000000) }}}}"}}
edges:
  - {{from: Start, to: Loop}}
"""
INTAKE_CANVAS = """
name: intake
nodes:
  - {name: On Incident, type: incident.onIncident}
  - {name: Done, type: noop}
edges:
  - {from: On Incident, to: Done}
"""
_CREATED = "public_incident.incident_created_v2"


def dense_canvas(noops: int = 100) -> str:
    """Start + ``noops`` noops, every earlier noop wired to every later one (100 noops:
    101 nodes, 4,951 edges)."""
    lines = ["name: dense", "nodes:", "  - {name: Start, type: start}"]
    lines += [f"  - {{name: N{i}, type: noop}}" for i in range(noops)]
    lines += ["edges:", "  - {from: Start, to: N0}"]
    lines += [f"  - {{from: N{i}, to: N{j}}}" for i in range(noops) for j in range(i + 1, noops)]
    return "\n".join(lines) + "\n"


def put_canvas(client: httpx.Client, name: str, text: str) -> None:
    saved = client.put(f"/api/v1/canvases/{name}", content=text,
                       headers={"Content-Type": "application/yaml"})
    if saved.status_code != 200:
        raise RuntimeError(f"saving canvas {name}: {saved.status_code} {saved.text}")


@dataclass
class Probe:
    """``/healthz`` latencies in ms, one request every 20 ms; a timeout counts as the
    timeout (a frozen server reads as 5,000 ms, not as a missing sample)."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    def run(self, url: str, stop: threading.Event) -> None:
        with httpx.Client(timeout=PROBE_TIMEOUT) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get(f"{url}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append((time.perf_counter() - started) * 1000)
                self.failures += not ok
                stop.wait(PROBE_INTERVAL)

    def figures(self) -> dict[str, float]:
        if not self.latencies:
            return {"probes": 0, "failures": self.failures}
        ordered = sorted(self.latencies)
        return {
            "probes": len(ordered),
            "failures": self.failures,
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "max_ms": round(ordered[-1], 1),
        }


def incident_delivery(secret: str, number: int, tag: str) -> tuple[bytes, dict[str, str]]:
    """A signed ``incident_created_v2`` delivery about incident ``number``."""
    incident = {"id": f"01HOSTILE{tag}{number:012d}", "name": f"Incident {number}",
                "reference": f"INC-{number}", "visibility": "public"}
    body = json.dumps({"event_type": _CREATED, _CREATED: incident}).encode()
    msg_id = f"msg_{tag}_{number}"
    timestamp = int(time.time())
    headers = {"content-type": "application/json", "webhook-id": msg_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(secret, msg_id, timestamp, body)}
    return body, headers


@dataclass
class Sender:
    """Signed deliveries at a steady rate; counts what was acknowledged with a 2xx."""

    tag: str
    sent: int = 0
    accepted: int = 0

    def run(self, url: str, secret: str, rate: float, stop: threading.Event) -> None:
        with httpx.Client(timeout=PROBE_TIMEOUT) as client:
            next_at = time.monotonic()
            while not stop.is_set():
                self.sent += 1
                body, headers = incident_delivery(secret, self.sent, self.tag)
                try:
                    answer = client.post(url, content=body, headers=headers)
                    self.accepted += answer.is_success
                except httpx.HTTPError:
                    pass
                next_at += 1 / rate
                stop.wait(max(0.0, next_at - time.monotonic()))


def signed_in(url: str, token: str) -> httpx.Client:
    """A browser-like UI session (cookie), signed in with ``token``."""
    client = httpx.Client(base_url=url, timeout=PROBE_TIMEOUT * 6, follow_redirects=True)
    form = client.get("/signin").text
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', form)
    if not csrf:
        raise RuntimeError("no CSRF field on the sign-in page")
    client.post("/signin", data={"csrf_token": csrf.group(1), "token": token, "next": "/"})
    return client


def hostile_pressure(url: str, token: str, stop: threading.Event, seen: dict[str, int]) -> None:
    """Until ``stop``: start a hostile run, open the hostile node's page (its preview
    evaluates the same template), open the dense canvas's page and save it again."""
    dense = dense_canvas()
    person = signed_in(url, token)
    api = httpx.Client(base_url=url, timeout=PROBE_TIMEOUT * 6,
                       headers={"Authorization": f"Bearer {token}"})
    steps: list[tuple[str, Callable[[], httpx.Response]]] = [
        ("hostile_runs", lambda: api.post("/api/v1/canvases/hostile/nodes/Start/run", json={})),
        ("hostile_node_page", lambda: person.get("/canvases/hostile/nodes/Loop")),
        ("dense_page", lambda: person.get("/canvases/dense")),
        ("dense_saves", lambda: api.put("/api/v1/canvases/dense", content=dense,
                                        headers={"Content-Type": "application/yaml"})),
    ]
    try:
        while not stop.is_set():
            for name, step in steps:
                try:
                    key = name if step().status_code < 400 else f"{name}_errors"
                except httpx.HTTPError:
                    key = f"{name}_timeouts"
                seen[key] = seen.get(key, 0) + 1
                if stop.is_set():
                    return
            stop.wait(0.5)
    finally:
        api.close()
        person.close()


def measure_phase(url: str, token: str, webhook: str, secret: str, seconds: float,
                  rate: float, tag: str, hostile: bool) -> dict[str, object]:
    """``/healthz`` latency and deliveries accepted over ``seconds``, with or without
    the hostile pressure running beside them."""
    stop = threading.Event()
    probe, sender = Probe(), Sender(tag)
    seen: dict[str, int] = {}
    jobs: list[tuple[Callable[..., None], tuple[object, ...]]] = [
        (probe.run, (url, stop)), (sender.run, (webhook, secret, rate, stop))]
    if hostile:
        jobs.append((hostile_pressure, (url, token, stop, seen)))
    threads = [threading.Thread(target=target, args=args) for target, args in jobs]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=PROBE_TIMEOUT * 8)
    return {"healthz": probe.figures(), "deliveries_sent": sender.sent,
            "deliveries_accepted": sender.accepted, "pressure": seen}
