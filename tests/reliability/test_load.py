"""Load: signed deliveries, 1/5 of them resends, sent concurrently to a real server.

Claim: exactly N*4/5 runs, every execution ran exactly once (attempts in the DB and
one request per idempotency key at the sink), no acknowledged delivery lost.
Full size (5,000 deliveries): ``scripts/prove_load.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Sink, http_sink, server_process

from .canvases import LOAD_CANVAS, api, apply_with_webhook
from .loadproof import check_load, run_load
from .processes import workers

pytestmark = pytest.mark.slow


@pytest.fixture
def sink() -> Iterator[Sink]:
    with http_sink() as running:
        yield running


def test_sqlite_with_in_process_workers(tmp_path: Path, sink: Sink) -> None:
    data_dir = tmp_path / "data"
    database_url = f"sqlite:///{tmp_path / 'load.db'}"
    with server_process(data_dir, "--database-url", database_url) as server:
        with api(server.url, server.token) as client:
            webhook = apply_with_webhook(client, "load", LOAD_CANVAS.replace("SINK", sink.url))
        result = run_load(webhook.url, webhook.secret, database_url, sink, total=150,
                          concurrency=32)
    check_load(result)


@pytest.mark.postgres
def test_postgres_with_three_worker_processes(tmp_path: Path, sink: Sink,
                                              postgres_database: str) -> None:
    data_dir = tmp_path / "data"
    with server_process(data_dir, "--no-workers", "--database-url", postgres_database) as server:
        with api(server.url, server.token) as client:
            webhook = apply_with_webhook(client, "load", LOAD_CANVAS.replace("SINK", sink.url))
        with workers(3, data_dir, postgres_database):
            result = run_load(webhook.url, webhook.secret, postgres_database, sink, total=500,
                              concurrency=48)
    check_load(result)
