"""`serve` and `demo` refuse a port another server holds, with a message saying so,
before they start anything (issue #13: the demo beside `make run` failed with a 401)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import free_port
from typer.testing import CliRunner

from incidentflow.cli import app
from incidentflow.ports import port_in_use


@pytest.fixture
def held_port() -> Iterator[int]:
    """A free port, then bound and listening, as another server would hold it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", free_port()))
        holder.listen()
        yield int(holder.getsockname()[1])


def said(result: object) -> str:
    return " ".join(str(getattr(result, "stderr", "")).split())  # unwrap Rich's lines


def test_a_listening_port_is_in_use_and_a_free_one_is_not(held_port: int) -> None:
    assert port_in_use("127.0.0.1", held_port)
    assert not port_in_use("127.0.0.1", free_port())


def test_serve_on_a_held_port_says_so_and_starts_nothing(held_port: int, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(app, ["serve", "--port", str(held_port),
                                      "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert f"port {held_port} is in use on 127.0.0.1" in said(result)
    assert "--port" in said(result)
    assert not data_dir.exists()  # nothing was prepared for a server that cannot listen


def test_demo_on_a_held_port_says_so_at_once(held_port: int) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["demo", "--port", str(held_port),
                                      "--emulator-port", str(free_port())])
    assert result.exit_code == 1
    assert f"port {held_port} is in use on 127.0.0.1" in said(result)
    # no HTTP 401 from whatever holds the port (the port number itself may contain "401")
    assert "401" not in result.output.replace(str(held_port), "")
    assert time.monotonic() - started < 5  # no child process was started and waited for


def test_demo_names_the_emulator_port_option_when_that_one_is_held(held_port: int) -> None:
    result = CliRunner().invoke(app, ["demo", "--port", str(free_port()),
                                      "--emulator-port", str(held_port)])
    assert result.exit_code == 1
    assert f"port {held_port} is in use" in said(result) and "--emulator-port" in said(result)
