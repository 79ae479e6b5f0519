"""``incidentflow demo`` as a user runs it: a subprocess that starts its own server and
emulator on the ports it is given, and must end with the follow-up incident."""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers import cli_command, free_port


@pytest.mark.slow
def test_the_demo_opens_a_private_follow_up_and_exits_0() -> None:
    env = {**os.environ, "COLUMNS": "200"}  # no wrapping: lines are asserted whole
    env.pop("INCIDENTFLOW_TOKEN", None)
    demo = subprocess.run(
        cli_command("demo", "--port", str(free_port()), "--emulator-port", str(free_port())),
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "status: ready" in demo.stdout
    assert "Open follow-up   succeeded" in demo.stdout
    follow_up = next(line for line in demo.stdout.splitlines() if line.startswith("6."))
    assert "“[follow-up] Checkout API returning 502s” (private)" in follow_up
