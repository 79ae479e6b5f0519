"""End-to-end fixtures: the real ``incidentflow serve`` process and an HTTP sink.

Helpers live in ``tests/helpers.py`` (``server_process``, ``http_sink``, ``wait_until``)
so other suites can start servers the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import ServerProcess, Sink, http_sink, server_process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per module (starting one costs seconds); tests use their own canvases."""
    with server_process(tmp_path_factory.mktemp("e2e") / "data") as running:
        yield running


@pytest.fixture
def sink() -> Iterator[Sink]:
    with http_sink() as running:
        yield running
