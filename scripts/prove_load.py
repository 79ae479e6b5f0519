"""Full-size load proof (issue 5): 5,000 signed deliveries, 1,000 of them resends.

    .venv/bin/python scripts/prove_load.py [--total 5000] [--concurrency 48] [--workers 3]

``incidentflow serve --no-workers`` + N ``incidentflow worker`` processes on a fresh
PostgreSQL database (created on INCIDENTFLOW_TEST_DATABASE_URL's server, default
127.0.0.1:5432 user postgres; dropped at the end). Canvas On Incident -> noop -> http
(a local sink recording Idempotency-Keys). Checks: exactly total*4/5 runs, every
execution succeeded on its first attempt, one sink request per idempotency key, every
acknowledged delivery stored. Prints the figures as JSON; exit 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import _proofpath  # noqa: F401  (puts tests/ on sys.path)
from helpers import http_sink, server_process
from reliability.canvases import LOAD_CANVAS, api, apply_with_webhook
from reliability.databases import CI_POSTGRES, fresh_database, postgres_base_url
from reliability.loadproof import check_load, run_load
from reliability.processes import workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    base = postgres_base_url() or CI_POSTGRES
    with tempfile.TemporaryDirectory(prefix="prove-load-") as tmp, \
            fresh_database(base) as database_url, http_sink() as sink:
        data_dir = Path(tmp) / "data"
        with server_process(data_dir, "--no-workers", "--database-url", database_url) as server:
            with api(server.url, server.token) as client:
                webhook = apply_with_webhook(client, "load", LOAD_CANVAS.replace("SINK", sink.url))
            with workers(args.workers, data_dir, database_url):
                result = run_load(webhook.url, webhook.secret, database_url, sink, args.total,
                                  args.concurrency, finish_within=900)
    print(json.dumps(result.figures(), indent=2))
    try:
        check_load(result)
    except AssertionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("OK: every claim of the load proof holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
