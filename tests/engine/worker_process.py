"""One worker process for test_engine_processes: drains the queue, logging each run.

Usage: python worker_process.py DATABASE_URL LOG_FILE WORKER_ID
Each execution appends its id to LOG_FILE (one line, O_APPEND), so the test can count
how many times every execution really ran.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx

from incidentflow.components.base import Component, Emission, ExecutionContext
from incidentflow.crypto import SecretBox
from incidentflow.engine.worker import Worker
from incidentflow.registry import Registry
from incidentflow.settings import Settings
from incidentflow.store.sql import SqlStore


class Record(Component):
    type = "t.record"
    label = "Record"
    log_path = ""

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{ctx.execution_id}\n".encode())
        finally:
            os.close(fd)
        return []


class Start(Component):
    type = "t.start"
    label = "Start"
    role = "trigger"


async def main(url: str, log_path: str, worker_id: str) -> None:
    Record.log_path = log_path
    registry = Registry()
    registry.add_component(Start())
    registry.add_component(Record())
    store = SqlStore(url, registry)
    settings = Settings(
        data_dir=Path(log_path).parent,
        database_url=url,
        public_url="http://test",
        secret_key="k",
        admin_token="t",
        worker_concurrency=16,
    )
    async with httpx.AsyncClient() as http:
        worker = Worker(store, registry, SecretBox("k"), http, settings, worker_id=worker_id)
        ran = await worker.drain()
    store.close()
    print(ran)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
