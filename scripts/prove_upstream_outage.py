"""Full-size outage proof (issue 5): incident.io answers 500/429 for a whole minute.

    .venv/bin/python scripts/prove_upstream_outage.py [--window 60] [--deliveries 50]

Real processes: the proof emulator (tests/reliability/proof_emulator.py) and
``incidentflow serve`` on SQLite with its workers, default retry policy (2 s base,
exponential) and INCIDENTFLOW_RETRY_LIMIT=12. The outage starts, the deliveries arrive
(On Incident -> Create Incident), and every execution must still finish once the
window closes, with one incident per delivery. Prints figures as JSON; exit 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import _proofpath  # noqa: F401  (puts tests/ on sys.path)
from helpers import server_process, wait_until
from reliability.canvases import MINOR, MIRROR_CANVAS, api, apply_with_webhook, connect_incident_io
from reliability.deliveries import make_deliveries, send_all
from reliability.ledger import read_ledger
from reliability.processes import proof_emulator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--deliveries", type=int, default=50)
    args = parser.parse_args()
    key = "outage-key-" + secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="prove-outage-") as tmp:
        work = Path(tmp)
        database_url = f"sqlite:///{work / 'outage.db'}"
        env = {"INCIDENTFLOW_RETRY_LIMIT": "12"}
        with proof_emulator(work, key) as emulator, \
                server_process(work / "data", "--database-url", database_url, env=env) as server:
            with api(server.url, server.token) as client:
                connect_incident_io(client, emulator.url, key)
                webhook = apply_with_webhook(client, "mirror",
                                             MIRROR_CANVAS.replace("SEVERITY_ID", MINOR))
            started = time.monotonic()
            emulator.start_outage(args.window)
            report = asyncio.run(send_all(webhook.url,
                                          make_deliveries(webhook.secret, args.deliveries)))
            unique = len(report.acknowledged())
            wait_until(lambda: _finished(database_url, unique), args.window * 6, interval=1,
                       what="every execution to finish after the outage")
            seconds = time.monotonic() - started
            proof = emulator.proof()
        ledger = read_ledger(database_url)
    names = Counter(i["name"] for i in proof["incidents"])
    figures = {
        "outage_seconds": args.window, "deliveries": args.deliveries, "distinct": unique,
        "outage_failures_answered": proof["outage_failures"], "create_calls": proof["creates"],
        "incidents": len(proof["incidents"]), "runs": ledger.runs_by_state,
        "executions": ledger.executions_by_state, "attempts": ledger.attempts_by_count,
        "seconds_until_all_finished": round(seconds, 1),
    }
    print(json.dumps(figures, indent=2))
    ok = (ledger.runs_by_state == {"succeeded": unique}
          and ledger.executions_by_state == {"succeeded": unique}
          and len(names) == unique and set(names.values()) == {1}
          and min(ledger.attempts_by_count) >= 2)
    print("OK: every execution retried through the outage, one incident each" if ok
          else "FAILED", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _finished(database_url: str, unique: int) -> bool:
    ledger = read_ledger(database_url)
    return ledger.runs == unique and ledger.unfinished == 0


if __name__ == "__main__":
    sys.exit(main())
