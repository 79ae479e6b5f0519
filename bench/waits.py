"""10,000 concurrent waits held with idle CPU (issue 15): an ``incidentflow worker``
process's CPU over a window with N waits held, against the same window of the same
worker with none, measured in the same run; the time to enqueue the N waits; and that
each fires once, on time.

    python -m bench.waits                        # SQLite, 10,000 waits, 10 s windows
    python -m bench.waits --database postgres    # the bench's own database on 127.0.0.1
    python -m bench.waits --waits 1000 --seconds 3 --setup-seconds 30   # a quick look

Half the runs wait in a ``wait`` step, half in a ``waitForEvent`` step for an event of
the type the runs start with, each keyed on its own value: every run started is an
arriving event looked up in the index, and matches none, so all time out. Both are due at one time,
``--setup-seconds`` after the start, late enough for the enqueue and both CPU windows.
The runs are started straight through the store from this process (the product's
``start_run``, what a manual run does); the worker is a separate process, as
deployed, so its CPU is its own. Not a test: it prints figures, asserts nothing about
time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from incidentflow.canvas import parse_canvas
from incidentflow.engine.router import first_executions
from incidentflow.events import Event, iso, utcnow
from incidentflow.registry import default_registry
from incidentflow.store.codec import new_id
from incidentflow.store.schema import event_waits, executions
from incidentflow.store.sql import SqlStore

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
BENCH_DB = "incidentflow_waits_bench"
CANVAS = {
    "name": "waits",
    "nodes": [
        {"name": "Start", "type": "start"},
        {"name": "Kind", "type": "if", "configuration": {"expression": "root.data.timer"}},
        {"name": "Pause", "type": "wait", "configuration": {"until": "{{ root.data.due }}"}},
        {"name": "Closed", "type": "waitForEvent", "configuration": {
            "eventType": "start.manual",
            "match": "event.data.batch == root.data.batch and event.data.closing",
            "timeoutSeconds": "{{ root.data.timeout }}"}},
        {"name": "AfterPause", "type": "noop"},
        {"name": "AfterTimeout", "type": "noop"},
    ],
    "edges": [
        {"from": "Start", "to": "Kind"},
        {"from": "Kind", "to": "Pause", "channel": "true"},
        {"from": "Kind", "to": "Closed", "channel": "false"},
        {"from": "Pause", "to": "AfterPause"},
        {"from": "Closed", "to": "AfterTimeout", "channel": "timeout"},
    ],
}
DOWNSTREAM = ("AfterPause", "AfterTimeout")


def main() -> None:
    options = _options()
    with tempfile.TemporaryDirectory(prefix="incidentflow-waits-") as workdir:
        url = _database(options.database, Path(workdir))
        store = SqlStore(url, default_registry())
        store.migrate()
        canvas = parse_canvas(CANVAS, default_registry())
        store.save_canvas(canvas, "", [], utcnow())
        worker = _worker(url, Path(workdir))
        try:
            _wait_ready(worker)
            figures = _measure(store, canvas, worker, options)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            store.close()
    _print(figures, options)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--waits", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="each CPU window")
    parser.add_argument("--setup-seconds", type=float, default=150.0,
                        help="when every wait is due, counted from the start")
    return parser.parse_args()


def _measure(store: SqlStore, canvas: Any, worker: subprocess.Popen[bytes],
             options: argparse.Namespace) -> dict[str, Any]:
    started = utcnow()
    due = started + timedelta(seconds=options.setup_seconds)
    idle = _cpu_over(worker.pid, options.seconds)  # the baseline: nothing waits
    began = time.monotonic()
    # Sixteen callers at once, as concurrent requests would be: their runs share
    # group commits (store.writer).
    with ThreadPoolExecutor(16) as callers:
        list(callers.map(lambda n: _start(store, canvas, n % 2 == 0, due),
                         range(options.waits)))
    enqueued = time.monotonic() - began
    _until(lambda: _held(store) >= options.waits, 600)
    held_after = time.monotonic() - began
    if utcnow() + timedelta(seconds=options.seconds + 2) > due:
        sys.exit("setup too slow for --setup-seconds: raise it")
    holding = _cpu_over(worker.pid, options.seconds)
    dues = _due_times(store)
    _until(lambda: _finished(store) >= options.waits, options.setup_seconds + 600)
    fired, lateness = _fired(store, dues)
    return {"idle_cpu_s": idle, "holding_cpu_s": holding, "enqueue_s": enqueued,
            "held_s": held_after, "fired": fired, "lateness": lateness}


def _start(store: SqlStore, canvas: Any, timer: bool, due: datetime) -> None:
    data = {"timer": timer, "due": iso(due), "batch": new_id(), "closing": False,
            "timeout": max(0.0, (due - utcnow()).total_seconds())}
    event = Event("start.manual", data)
    store.start_run(canvas.name, "Start", event, first_executions(canvas, "Start", event),
                    utcnow())


def _held(store: SqlStore) -> int:
    """Waits in place: downstream executions of a wait step queued for later, and
    waitForEvent executions waiting (an event_waits row, queued)."""
    with store.engine.connect() as conn:
        timers = conn.scalar(sa.select(sa.func.count()).select_from(executions).where(
            executions.c.node == "AfterPause", executions.c.state == "queued"))
        events = conn.scalar(sa.select(sa.func.count()).select_from(event_waits).join(
            executions, executions.c.id == event_waits.c.execution_id).where(
            executions.c.state == "queued"))
    return int(timers or 0) + int(events or 0)


def _due_times(store: SqlStore) -> dict[str, datetime]:
    """run id -> when its wait is due, as stored while it waits."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(executions.c.run_id, executions.c.next_attempt_at).where(
            executions.c.node.in_(("AfterPause", "Closed")), executions.c.state == "queued"))
        return {run_id: when for run_id, when in rows}


def _finished(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(executions).where(
            executions.c.node.in_(DOWNSTREAM), executions.c.state == "succeeded")) or 0)


def _fired(store: SqlStore, dues: dict[str, datetime]) -> tuple[dict[str, int], list[float]]:
    """How many downstream executions each run has (once each: 1), and how late each
    wait ended: its last step's finish (wait) or the wait's own finish (waitForEvent)
    after its due time."""
    with store.engine.connect() as conn:
        per_run: dict[str, int] = {}
        for run_id, node in conn.execute(sa.select(executions.c.run_id, executions.c.node)
                                         .where(executions.c.node.in_(DOWNSTREAM))):
            per_run[run_id] = per_run.get(run_id, 0) + 1
        ends = dict(conn.execute(sa.select(executions.c.run_id, executions.c.finished_at).where(
            executions.c.node.in_(("AfterPause", "Closed")))).all())
    counts: dict[str, int] = {}
    for count in per_run.values():
        counts[str(count)] = counts.get(str(count), 0) + 1
    lateness = sorted((ends[run] - due).total_seconds() for run, due in dues.items()
                      if ends.get(run) is not None)
    return counts, lateness


def _cpu_over(pid: int, seconds: float) -> float:
    before = _cpu_seconds(pid)
    time.sleep(seconds)
    return _cpu_seconds(pid) - before


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'waits.db'}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        conn.exec_driver_sql(f"CREATE DATABASE {BENCH_DB}")
    admin.dispose()
    return f"{POSTGRES}/{BENCH_DB}"


def _worker(url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INCIDENTFLOW_DATABASE_URL": url,
           "INCIDENTFLOW_SECRET_KEY": "bench-waits-secret-key"}
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 (closed with the workdir)
    return subprocess.Popen([sys.executable, "-m", "incidentflow", "worker", "--data-dir",
                             str(workdir / "data")], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _wait_ready(worker: subprocess.Popen[bytes]) -> None:
    time.sleep(3)  # imports, migration check, the first claim
    if worker.poll() is not None:
        sys.exit(f"the worker exited with {worker.returncode}")


def _until(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit("timed out")
        time.sleep(0.5)


def _print(figures: dict[str, Any], options: argparse.Namespace) -> None:
    lateness = figures["lateness"]
    idle, holding = figures["idle_cpu_s"], figures["holding_cpu_s"]
    print(f"database {options.database}, {options.waits} waits "
          f"({options.waits - options.waits // 2} wait, {options.waits // 2} waitForEvent), "
          f"windows of {options.seconds:.0f} s")
    print(f"worker CPU, no waits:   {idle:.2f} s ({100 * idle / options.seconds:.1f}% of a core)")
    ratio = f"{holding / idle:.2f}x the baseline" if idle > 0 else "the baseline used none"
    print(f"worker CPU, waits held: {holding:.2f} s "
          f"({100 * holding / options.seconds:.1f}% of a core; {ratio})")
    print(f"enqueue: {figures['enqueue_s']:.1f} s to start the runs, "
          f"{figures['held_s']:.1f} s until every wait was held")
    print(f"fired: runs by downstream executions {figures['fired']} (all once: "
          f"{figures['fired'] == {'1': options.waits}})")
    if lateness:
        print(f"ended after due: p50 {lateness[len(lateness) // 2]:.2f} s, "
              f"p99 {lateness[int(len(lateness) * 0.99)]:.2f} s, max {lateness[-1]:.2f} s")


if __name__ == "__main__":
    main()
