"""Start incidentflow and the incident.io emulator as real processes on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from helpers import stop_process

STARTUP_DEADLINE = 30.0  # seconds; a readiness bound, not an assertion on timing



@contextmanager
def process(args: list[str], ready_url: str, env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        child = subprocess.Popen(args, env={**os.environ, **env}, stdout=out,
                                 stderr=subprocess.STDOUT)
        try:
            _wait_ready(child, ready_url, log)
            yield
        finally:
            stop_process(child, timeout=10)


def _wait_ready(child: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def cli() -> list[str]:
    return [sys.executable, "-m", "incidentflow"]
