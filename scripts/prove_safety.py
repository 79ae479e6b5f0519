"""Safety proof (issue 10): nothing user-written stops the server, not even after a crash.

    .venv/bin/python scripts/prove_safety.py [--seconds 20] [--rate 40] [--lease 5]

Starts ``incidentflow serve`` (SQLite, in-process workers) on 127.0.0.1 and, for
``--seconds``, does all of this at once (``bench/hostile.py``):

- probes ``/healthz`` every 20 ms and records each answer's latency;
- sends signed On Incident deliveries at ``--rate`` per second and counts the 2xx;
- starts runs of a canvas whose ``http`` body is a hostile template (nested loops of
  10^10 rounds, and a 10 MB ``center``), and opens that node's page, whose expression
  preview evaluates the same template;
- opens the page of a dense canvas (101 nodes, 4,951 edges) and saves it again.

Then it starts a hostile run, ``kill -9``s the server while that run's ``http``
execution is running, restarts the server on the same data directory with a short
lease, and probes ``/healthz`` past the lease's expiry, when the dead worker's
execution is taken over: the poison pill must not come back. Prints the figures as
JSON; exit 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import _proofpath  # noqa: F401  (puts tests/ and the repository root on sys.path)
import httpx
from helpers import ServerProcess, http_sink, server_process, wait_until
from reliability.canvases import api, apply_with_webhook

from bench.hostile import (
    HOSTILE_CANVAS,
    INTAKE_CANVAS,
    PROBE_TIMEOUT,
    Probe,
    dense_canvas,
    measure_phase,
    put_canvas,
)

HEALTHZ_P99_LIMIT_MS = 100.0


def executing_hostile_run(client: httpx.Client) -> str | None:
    """Start a hostile run and return its id once its ``http`` execution is running (or
    once the server stopped answering: a frozen server is killed all the same)."""
    try:
        started = client.post("/api/v1/canvases/hostile/nodes/Start/run", json={})
    except httpx.TimeoutException:
        return None  # frozen before it could even start the run
    run_id = str(started.json()["runId"])

    def loop_running() -> bool:
        try:
            run = client.get(f"/api/v1/runs/{run_id}", timeout=PROBE_TIMEOUT).json()
        except httpx.TimeoutException:
            return True  # frozen by the template: that is "running" enough to kill
        return any(e["node"] == "Loop" and e["state"] == "running" for e in run["executions"])

    wait_until(loop_running, timeout=30, interval=0.01, what="the hostile execution to run")
    return run_id


def after_crash(data_dir: Path, run_id: str | None, lease: float, seconds: float,
                env: dict[str, str]) -> dict[str, object]:
    """Restart on the same data directory and probe past the lease's expiry."""
    try:
        with server_process(data_dir, env=env) as server:
            return _probe_restarted(server, run_id, lease, seconds)
    except AssertionError as exc:  # it never answered /healthz: the pill is back
        return {"healthz": {"probes": 0, "failures": 1}, "execution_state": f"unknown ({exc})"}


def _probe_restarted(server: ServerProcess, run_id: str | None, lease: float,
                     seconds: float) -> dict[str, object]:
    stop, probe = threading.Event(), Probe()
    thread = threading.Thread(target=probe.run, args=(server.url, stop))
    thread.start()
    time.sleep(max(seconds, lease + 5))
    stop.set()
    thread.join(timeout=PROBE_TIMEOUT * 2)
    if run_id is None:
        return {"healthz": probe.figures(), "execution_state": "unknown (no run was started)"}
    try:
        with api(server.url, server.token) as client:
            run = client.get(f"/api/v1/runs/{run_id}", timeout=PROBE_TIMEOUT * 6).json()
    except httpx.TimeoutException:
        return {"healthz": probe.figures(), "execution_state": "unknown (server frozen)"}
    loop = next(e for e in run["executions"] if e["node"] == "Loop")
    return {"healthz": probe.figures(), "run_state": run["state"],
            "execution_state": loop["state"], "attempts": loop["attempts"],
            "error": loop["error"]}


def checks(pressure: dict[str, object], crash: dict[str, object]) -> list[str]:
    failed = []
    for phase, figures in (("under pressure", pressure), ("after kill -9", crash)):
        healthz = figures["healthz"]
        assert isinstance(healthz, dict)
        if healthz.get("p99_ms", float("inf")) > HEALTHZ_P99_LIMIT_MS:
            failed.append(f"{phase}: /healthz p99 {healthz.get('p99_ms')} ms "
                          f"> {HEALTHZ_P99_LIMIT_MS} ms")
        if healthz.get("failures"):
            failed.append(f"{phase}: {healthz['failures']} /healthz probes failed")
    if pressure["deliveries_accepted"] != pressure["deliveries_sent"]:
        failed.append(f"accepted {pressure['deliveries_accepted']} of "
                      f"{pressure['deliveries_sent']} deliveries")
    seen = pressure["pressure"]
    assert isinstance(seen, dict)
    for step in ("hostile_runs", "hostile_node_page", "dense_page", "dense_saves"):
        if not seen.get(step):
            failed.append(f"under pressure: no {step.replace('_', ' ')} succeeded")
    if crash["execution_state"] != "failed":
        failed.append(f"the hostile execution is {crash['execution_state']}, not failed")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=40.0, help="deliveries per second")
    parser.add_argument("--lease", type=float, default=5.0,
                        help="lease after the restart (s): when the takeover happens")
    args = parser.parse_args()
    env = {"INCIDENTFLOW_LEASE_SECONDS": str(args.lease)}
    with tempfile.TemporaryDirectory(prefix="prove-safety-") as tmp, http_sink() as sink:
        data_dir = Path(tmp) / "data"
        with server_process(data_dir, env=env) as server:
            with api(server.url, server.token) as client:
                hook = apply_with_webhook(client, "intake", INTAKE_CANVAS)
                put_canvas(client, "hostile", HOSTILE_CANVAS.replace("SINK", sink.url))
                put_canvas(client, "dense", dense_canvas())
            pressure = measure_phase(server.url, server.token, hook.url, hook.secret,
                                     args.seconds, args.rate, "proof", hostile=True)
            print(json.dumps({"under_pressure": pressure}, indent=2), flush=True)
            with api(server.url, server.token) as client:
                run_id = executing_hostile_run(client)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
        crash = after_crash(data_dir, run_id, args.lease, args.seconds, env)
    print(json.dumps({"after_kill_9": crash}, indent=2))
    failed = checks(pressure, crash)
    for message in failed:
        print(f"FAILED: {message}", file=sys.stderr)
    if not failed:
        print("OK: /healthz stayed fast, every delivery was accepted, the poison pill is gone")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
