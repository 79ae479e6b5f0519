"""Child processes of the proofs: ``incidentflow worker`` and a slow emulator.

Servers come from ``helpers.server_process``. Every child writes its output to a log
file next to its data directory; :func:`child_logs` lists them so the secret scan
(``tests/_logscan.py``) can read them at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from helpers import cli_command, free_port, stop_process, wait_until

PROOF_EMULATOR = Path(__file__).with_name("proof_emulator.py")


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_hard(self) -> None:
        """SIGKILL: no lease handed back, no cleanup (a crashed machine)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _register_log(path: Path) -> None:
    # The session's secret scan reads every child log (tests/_logscan.py).
    with contextlib.suppress(ImportError):
        from _logscan import watch_file

        watch_file(path)


def _stop(child: Child) -> None:
    stop_process(child.process)


@contextlib.contextmanager
def workers(count: int, data_dir: Path, database_url: str,
            env: dict[str, str] | None = None) -> Iterator[list[Child]]:
    """``count`` ``incidentflow worker`` processes sharing ``data_dir`` (one secret key)."""
    full_env = {**os.environ, **(env or {})}
    children = []
    try:
        for number in range(count):
            log_path = data_dir.parent / f"worker-{number}-{os.getpid()}-{free_port()}.log"
            _register_log(log_path)
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    cli_command("worker", "--data-dir", str(data_dir),
                                "--database-url", database_url),
                    env=full_env, stdout=log, stderr=subprocess.STDOUT,
                )
            children.append(Child(f"worker-{number}", process, log_path))
        yield children
    finally:
        for child in children:
            _stop(child)


@dataclass
class Emulator:
    url: str
    child: Child

    def proof(self) -> dict:
        """Incidents, idempotency keys, create calls and outage failures so far."""
        return httpx.get(f"{self.url}/_proof/incidents", timeout=10).json()

    def start_outage(self, seconds: float) -> None:
        httpx.post(f"{self.url}/_proof/outage", json={"seconds": seconds}).raise_for_status()


@contextlib.contextmanager
def proof_emulator(workdir: Path, api_key: str, delay: float = 0.0) -> Iterator[Emulator]:
    """``proof_emulator.py`` in its own process; creates answer ``delay`` s late."""
    port = free_port()
    log_path = workdir / f"emulator-{port}.log"
    _register_log(log_path)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(PROOF_EMULATOR), str(port), api_key, str(delay)],
            stdout=log, stderr=subprocess.STDOUT,
        )
    emulator = Emulator(f"http://127.0.0.1:{port}", Child("emulator", process, log_path))
    try:
        wait_until(lambda: _answers(emulator), 20, what="the emulator")
        yield emulator
    finally:
        _stop(emulator.child)


def _answers(emulator: Emulator) -> bool:
    if emulator.child.process.poll() is not None:
        raise AssertionError(f"emulator exited:\n{emulator.child.log()}")
    try:
        return httpx.get(f"{emulator.url}/_proof/incidents", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
