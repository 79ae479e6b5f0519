"""``python -m bench.waits`` at tiny size, so the 10,000-waits figure keeps working:
the worker starts, the waits are held and every one fires once (no figure checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_waits_bench_runs_and_every_wait_fires_once() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.waits", "--waits", "20", "--seconds", "0.5",
         "--setup-seconds", "15"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "worker CPU, waits held:" in done.stdout
    assert "(all once: True)" in done.stdout
