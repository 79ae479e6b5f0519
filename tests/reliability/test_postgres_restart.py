"""Fault: PostgreSQL restarts (``pg_ctl restart -m fast``) while deliveries pour in.

A throwaway cluster of the test's own is restarted, never the shared one. Claim: every
delivery that got a 2xx has its run at the end; deliveries answered 5xx (or cut off)
during the outage are retried by the sender, as incident.io does, and land exactly
once; the server and its workers carry on without a restart of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Sink, http_sink, server_process, wait_until

from .canvases import LOAD_CANVAS, api, apply_with_webhook
from .cluster import Cluster, throwaway_cluster
from .databases import fresh_database
from .deliveries import SendReport, make_deliveries, send_all
from .ledger import read_ledger

pytestmark = pytest.mark.slow

TOTAL = 500  # 400 distinct deliveries, 100 resends


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    try:
        with throwaway_cluster() as running:
            yield running
    except LookupError as exc:
        pytest.skip(f"PostgreSQL restart proof skipped: {exc}")


def test_accepted_deliveries_survive_a_database_restart(tmp_path: Path,
                                                      cluster: Cluster) -> None:
    with fresh_database(cluster.url) as database_url, http_sink() as sink, \
            server_process(tmp_path / "data", "--database-url", database_url,
                           env={"INCIDENTFLOW_LEASE_SECONDS": "5"}) as server:
        with api(server.url, server.token) as client:
            webhook = apply_with_webhook(client, "load", LOAD_CANVAS.replace("SINK", sink.url))
        report = _send_with_restart_midway(webhook.url, webhook.secret, cluster)
        unique = len(report.acknowledged())
        wait_until(lambda: _finished(database_url, unique, sink), 120, interval=0.5,
                   what="every run to finish after the restart")
        ledger = read_ledger(database_url)

    errors = report.count(lambda s: s >= 500 or s == 0)
    assert errors > 0, "no request met the restart: the test proved nothing"
    assert not report.gave_up, report.gave_up
    assert unique == TOTAL - TOTAL // 5
    assert sorted(ledger.accepted_ids) == sorted(report.acknowledged())  # none lost, none twice
    assert ledger.runs_by_state == {"succeeded": unique}
    assert ledger.executions_by_state == {"succeeded": 2 * unique}
    keys = {r["headers"]["idempotency-key"] for r in list(sink.requests)}
    assert len(keys) == unique  # every run reached the sink


def _send_with_restart_midway(url: str, secret: str, cluster: Cluster) -> SendReport:
    """Send everything; restart the cluster once a quarter has been acknowledged."""
    deliveries = make_deliveries(secret, TOTAL)
    report = SendReport()

    async def main() -> bool:
        sending = asyncio.create_task(
            send_all(url, deliveries, concurrency=32, retry_for=90, report=report))
        while not sending.done():
            if len(report.acknowledged()) >= TOTAL // 4:
                await asyncio.to_thread(cluster.restart)  # senders keep going meanwhile
                await sending
                return True
            await asyncio.sleep(0.02)
        return False

    assert asyncio.run(main()), "the load finished before the restart: raise TOTAL"
    return report


def _finished(database_url: str, unique: int, sink: Sink) -> bool:
    ledger = read_ledger(database_url)
    return ledger.runs == unique and ledger.unfinished == 0 and len(sink.requests) >= unique
