"""What parallel test processes (pytest-xdist workers) rely on in tests/helpers.py and
tests/parallel.py: ports from a block of their own, and the units of work (the paced
lane, else a module)."""

from __future__ import annotations

import socket

import helpers
import pytest
from helpers import FIRST_PORT, PORTS_PER_WORKER, free_port
from parallel import start_rank, work_unit


@pytest.mark.parametrize("worker", [0, 3])
def test_a_worker_picks_free_ports_from_its_own_block(worker: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
    first = FIRST_PORT + worker * PORTS_PER_WORKER
    ports = [free_port() for _ in range(5)]
    assert all(first <= port < first + PORTS_PER_WORKER for port in ports), ports
    assert len(set(ports)) == 5  # consecutive picks differ: two servers never share one
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports[0]))  # free indeed


def test_a_taken_port_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    first = FIRST_PORT + PORTS_PER_WORKER
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", first + 7))
        holder.listen()
        monkeypatch.setattr(helpers, "_next_port", iter([7, 8]))
        assert free_port() == first + 8


def test_without_workers_any_free_port_will_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", free_port()))


def test_paced_tests_and_hogs_share_one_unit_and_the_rest_go_by_module() -> None:
    assert work_unit("tests/time/test_time_wait.py::test_x[sqlite]") == "paced"
    assert work_unit("tests/reliability/test_load.py::test_y") == "paced"
    assert work_unit("tests/ui/test_browser.py::test_z") == "tests/ui/test_browser.py"
    assert work_unit("tests/store/test_store_waits.py::test_w[postgres]") == (
        "tests/store/test_store_waits.py")


def test_the_paced_lane_starts_first_then_the_long_units() -> None:
    units = ["tests/store/test_store_waits.py", "tests/ui/test_browser_runs.py", "paced",
             "tests/e2e/test_incident_e2e.py", "tests/core/test_crypto.py"]
    assert sorted(units, key=start_rank) == [
        "paced", "tests/ui/test_browser_runs.py", "tests/e2e/test_incident_e2e.py",
        "tests/store/test_store_waits.py", "tests/core/test_crypto.py"]
