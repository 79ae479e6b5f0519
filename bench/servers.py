"""Servers under test as subprocesses on free 127.0.0.1 ports: start, wait, measure, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

# `incidentflow serve` (incidentflow/cli.py) runs uvicorn.run(access_log=False) with
# loop/http "auto", which pick uvloop and httptools (both installed); explicit here.
# baselines are started with the same ones so ratios compare like with like.
UVICORN_FLAGS = (
    "--no-access-log",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--log-level",
    "warning",
)


class ServerFailed(RuntimeError):
    """A server exited or never answered; the message carries its log tail."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        useful = [line for line in text.splitlines() if " INFO alembic." not in line]
        return "\n".join(useful[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def uvicorn_argv(app: str, port: int) -> list[str]:
    python = sys.executable
    return [
        python,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *UVICORN_FLAGS,
    ]


def start(
    name: str,
    argv: Sequence[str],
    port: int,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/",
    timeout: float = 30.0,
) -> Server:
    """Spawn ``argv`` in its own process group and wait until it answers HTTP."""
    log = log_dir / f"{name}.log"
    started = time.monotonic()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(argv),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    server = Server(name, process, port, log)
    _wait_ready(server, ready_path, started + timeout)
    server.ready_seconds = round(time.monotonic() - started, 3)
    return server


def _wait_ready(server: Server, path: str, deadline: float) -> None:
    """Any HTTP answer means ready: uvicorn listens only after app startup finished."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            stop(server)
            raise ServerFailed(
                f"{server.name} exited ({server.process.returncode}):\n{server.log_tail()}"
            )
        try:
            httpx.get(server.url + path, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.02)
    stop(server)
    raise ServerFailed(f"{server.name} not ready in time:\n{server.log_tail()}")


def stop(server: Server) -> None:
    """SIGTERM the server's own process group, then SIGKILL it if it lingers."""
    if server.process.poll() is None:
        _signal_group(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=5)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # the group we created with start_new_session; only ours


def rss_mb(pid: int) -> float:
    """Memory of ``pid`` and its descendants (serve's worker process), in MiB: the
    resident memory of ``pid`` plus what each descendant has to itself (its private
    pages). A forked worker shares its parent's pages until it writes them: adding
    resident sizes would count those twice, and so would the machine's memory not."""
    total_kb = _status_kb(pid, "VmRSS:")
    for member in _descendants(pid):
        total_kb += _private_kb(member)
    return round(total_kb / 1024, 1)


def _status_kb(pid: int, field: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def _private_kb(pid: int) -> int:
    """Private clean + private dirty pages (the process's unique set size)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return sum(int(line.split()[1]) for line in rollup.splitlines()
               if line.startswith(("Private_Clean:", "Private_Dirty:")))


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


@contextlib.contextmanager
def fake_incidentio(name: str, log_dir: Path) -> Iterator[Server]:
    """``bench/fake_incidentio.py`` on a free port, stopped on the way out."""
    port = free_port()
    fake = start(name, uvicorn_argv("bench.fake_incidentio:app", port), port, log_dir)
    try:
        yield fake
    finally:
        stop(fake)
