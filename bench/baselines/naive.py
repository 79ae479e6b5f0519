"""Baseline (b): a naive but correct receiver, the bar the product's ingest must clear.

Verify the Standard Webhooks signature, insert the raw delivery into SQLite (WAL)
with a UNIQUE webhook-id (a replay inserts nothing), commit per request, answer 200.
One connection used from the event loop: requests are serialised, which is correct
for SQLite's single writer and the simplest thing that works.

Configured by environment: BENCH_SQLITE_PATH, BENCH_SQLITE_SYNC (FULL or NORMAL),
BENCH_SIGNING_SECRET.
"""

from __future__ import annotations

import os
import sqlite3
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench import signing

SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery (
  id INTEGER PRIMARY KEY,
  endpoint_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  received_at REAL NOT NULL,
  body BLOB NOT NULL,
  UNIQUE (endpoint_id, webhook_id)
)
"""


def open_database(path: str, synchronous: str) -> sqlite3.Connection:
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"BENCH_SQLITE_SYNC must be FULL or NORMAL, not {synchronous!r}")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute(SCHEMA)
    return connection


DATABASE = open_database(
    os.environ["BENCH_SQLITE_PATH"], os.environ.get("BENCH_SQLITE_SYNC", "FULL")
)
KEY = signing.secret_key(os.environ["BENCH_SIGNING_SECRET"])


async def receive(request: Request) -> Response:
    body = await request.body()
    headers = request.headers
    webhook_id = headers.get("webhook-id", "")
    valid = webhook_id and signing.is_valid(
        KEY,
        webhook_id,
        headers.get("webhook-timestamp", ""),
        headers.get("webhook-signature", ""),
        body,
        time.time(),
    )
    if not valid:
        return JSONResponse({"error": "invalid signature"}, status_code=401)
    DATABASE.execute("BEGIN IMMEDIATE")
    DATABASE.execute(
        "INSERT INTO delivery (endpoint_id, webhook_id, received_at, body) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (endpoint_id, webhook_id) DO NOTHING",
        (request.path_params["endpoint_id"], webhook_id, time.time(), body),
    )
    DATABASE.execute("COMMIT")
    return Response(status_code=200)


async def ready(request: Request) -> Response:
    return Response("ok")


app = Starlette(
    routes=[Route("/webhooks/{endpoint_id}", receive, methods=["POST"]), Route("/", ready)]
)
