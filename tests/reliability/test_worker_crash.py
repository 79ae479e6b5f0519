"""Fault: a worker is killed (SIGKILL) while its Create Incident calls are in flight.

The emulator (own process) creates the incident at once but answers 1.5 s later, so
the killed worker has made the call and never learned the result. Claim: after the
lease (4 s) expires other workers finish every execution, retrying with the same
idempotency key, and incident.io holds exactly one incident per delivery.
"""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

import pytest
from helpers import server_process, wait_until

from .canvases import MINOR, MIRROR_CANVAS, api, apply_with_webhook, connect_incident_io
from .deliveries import make_deliveries, send_all
from .ledger import read_ledger
from .processes import proof_emulator, workers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LEASE = {"INCIDENTFLOW_LEASE_SECONDS": "4"}
DELIVERIES = 15  # 12 distinct incidents, 3 resends


def test_killed_worker_mid_create_incident(tmp_path: Path, postgres_database: str) -> None:
    import asyncio

    key = "proof-key-" + secrets.token_hex(8)
    data_dir = tmp_path / "data"
    with proof_emulator(tmp_path, key, delay=1.5) as emulator, \
            server_process(data_dir, "--no-workers", "--database-url", postgres_database,
                           env=LEASE) as server:
        with api(server.url, server.token) as client:
            connect_incident_io(client, emulator.url, key)
            webhook = apply_with_webhook(client, "mirror",
                                         MIRROR_CANVAS.replace("SEVERITY_ID", MINOR))
        report = asyncio.run(send_all(webhook.url, make_deliveries(webhook.secret, DELIVERIES)))
        unique = len(report.acknowledged())
        assert unique == 12 and not report.gave_up

        doomed_env = {**LEASE, "INCIDENTFLOW_WORKER_CONCURRENCY": "4"}
        with workers(1, data_dir, postgres_database, env=doomed_env) as (doomed,):
            wait_until(lambda: emulator.proof()["creates"] >= 1, 30,
                       what="the first Create Incident call")
            doomed.kill_hard()  # its calls are in flight: answers held for 1.5 s
        in_flight = emulator.proof()["creates"]

        with workers(2, data_dir, postgres_database, env=LEASE):
            wait_until(lambda: _finished(postgres_database, unique), 90, interval=0.25,
                       what="every run to finish after the takeover")
        proof = emulator.proof()

    ledger = read_ledger(postgres_database)
    assert ledger.runs_by_state == {"succeeded": unique}
    assert ledger.executions_by_state == {"succeeded": unique}
    # The killed worker's executions ran again (attempt 2) after its lease expired.
    assert max(ledger.attempts_by_count) >= 2, ledger.attempts_by_count
    assert in_flight >= 1
    assert proof["creates"] > unique  # some keys were sent twice...
    names = Counter(i["name"] for i in proof["incidents"])
    assert len(proof["incidents"]) == unique  # ...yet one incident per delivery
    assert set(names.values()) == {1}, names
    assert len(proof["keys"]) == unique
    assert len(set(proof["keys"].values())) == unique
    assert all(k.startswith("if-") for k in proof["keys"])


def _finished(database_url: str, unique: int) -> bool:
    ledger = read_ledger(database_url)
    return ledger.runs == unique and ledger.unfinished == 0
