"""``incidentflow serve`` runs its workers in a child process (worker_process.py), for
real: the child is there, runs the executions, is woken through the pipe (the poll is
set to ten minutes, so nothing else could start a run in time), is restarted when it
dies and ends with its parent, however the parent ends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, cli_command, server_process, stop_process, wait_until

PING = """
name: ping
nodes:
  - {name: Start, type: start}
  - {name: Pass, type: noop}
edges:
  - {from: Start, to: Pass}
"""
UNWOKEN = {"INCIDENTFLOW_WORKER_POLL_SECONDS": "600"}  # only a wake starts a run in time


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; its parent just has not reaped it yet


def api(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"Authorization": f"Bearer {server.token}"})


def run_to_success(client: httpx.Client, timeout: float = 20) -> None:
    started = client.post("/api/v1/canvases/ping/nodes/Start/run", json={})
    assert started.status_code in (200, 201, 202), started.text
    run_id = started.json()["runId"]

    def succeeded() -> bool:
        return client.get(f"/api/v1/runs/{run_id}").json()["state"] == "succeeded"

    wait_until(succeeded, timeout=timeout, interval=0.1, what=f"run {run_id} to succeed")


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[ServerProcess, httpx.Client]]:
    with server_process(tmp_path / "data", env=UNWOKEN) as server, api(server) as client:
        saved = client.put("/api/v1/canvases/ping", content=PING,
                           headers={"Content-Type": "application/yaml"})
        assert saved.status_code == 200, saved.text
        yield server, client


def worker_pids_started(log: str) -> list[int]:
    """The process ids in the workers' "worker <host>:<pid>:<n> started" lines."""
    return [int(pid) for pid in re.findall(r"worker [^:\s]+:(\d+):\w+ started", log)]


def test_the_workers_run_in_a_child_woken_through_the_pipe(
        serving: tuple[ServerProcess, httpx.Client]) -> None:
    server, client = serving
    [child] = wait_until(lambda: children(server.process.pid) or None, timeout=10,
                         what="the worker process")
    for _ in range(3):  # each run is committed by serve and started by the child's wake
        run_to_success(client)
    assert worker_pids_started(server.log()) == [child], server.log()


def test_a_dead_worker_process_is_replaced(serving: tuple[ServerProcess, httpx.Client]) -> None:
    server, client = serving
    [first] = wait_until(lambda: children(server.process.pid) or None, timeout=10,
                         what="the worker process")
    os.kill(first, signal.SIGKILL)
    [second] = wait_until(lambda: [p for p in children(server.process.pid)
                                   if p != first and alive(p)] or None,
                          timeout=20, what="a new worker process")
    wait_until(lambda: second in worker_pids_started(server.log()), timeout=20,
               what="the new worker to start")
    time.sleep(1)  # past its first look for work: from now on only a wake starts a run
    run_to_success(client)  # the new one reads the same pipe (its poll is ten minutes)
    log = server.log()
    assert f"worker process {first} ended (exit code -9)" in log, log
    assert second in worker_pids_started(log), log
    assert not alive(first)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_worker_process_ends_with_serve(tmp_path: Path, how: signal.Signals) -> None:
    with server_process(tmp_path / "data") as server:
        [child] = wait_until(lambda: children(server.process.pid) or None, timeout=10,
                             what="the worker process")
        server.process.send_signal(how)
        server.process.wait(timeout=30)
        # SIGKILL: nobody closes the pipe, the kernel does; the child sees its end.
        wait_until(lambda: not alive(child), timeout=30, what="the worker process to end")
        stop_process(server.process)
    if how is signal.SIGTERM:
        assert "ended (exit code" not in server.log()  # stopped, not died


def test_workers_in_process_leaves_no_child(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", "--workers-in-process") as server, \
            api(server) as client:
        assert client.put("/api/v1/canvases/ping", content=PING,
                          headers={"Content-Type": "application/yaml"}).status_code == 200
        run_to_success(client)
        assert children(server.process.pid) == []
        assert worker_pids_started(server.log()) == [server.process.pid]


def test_no_workers_leaves_no_child(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", "--no-workers") as server:
        # a fork, were there one, would have happened before the port opened
        assert children(server.process.pid) == []
        assert worker_pids_started(server.log()) == []


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_migration_that_fails_in_its_child_process_is_a_clear_error(
        tmp_path: Path, command: str) -> None:
    # The migration runs in a child that exits (Alembic never stays in serve's memory):
    # its failure must still read as one clear line and the parent's exit code.
    done = subprocess.run(
        cli_command(command, "--data-dir", str(tmp_path / "data"),
                    "--database-url", "nosuchdb://x"),
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "INCIDENTFLOW_ADMIN_TOKEN": "a" * 32})
    assert done.returncode == 1, done
    assert done.stderr.count("cannot prepare the database") == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_serve_metrics_count_the_executions_its_worker_process_ran(
        serving: tuple[ServerProcess, httpx.Client]) -> None:
    server, client = serving
    for _ in range(3):
        run_to_success(client)
    text = httpx.get(f"{server.url}/metrics", timeout=30).text
    [succeeded] = re.findall(r'^incidentflow_executions_total\{result="succeeded"\} (\S+)$',
                             text, re.MULTILINE)
    assert float(succeeded) == 3, text  # counted in the child, shown by serve
    assert text.count("# TYPE incidentflow_executions_total counter") == 1, text
    assert "incidentflow_queue_depth" in text  # serve's own gauges still there
