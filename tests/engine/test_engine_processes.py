"""Two worker processes on one PostgreSQL queue: every execution runs exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from engine_fixtures import NOW

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.events import Event
from incidentflow.store.port import NewExecution


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: what is tested here is PostgreSQL's (no SQLite half to skip)."""
    return postgres_url


@pytest.fixture
def store(sql_store):
    """About other processes sharing the database: the SQL store."""
    return sql_store


SCRIPT = Path(__file__).with_name("worker_process.py")
RUNS, PER_RUN = 20, 50  # 1,000 executions
COUNT = RUNS * PER_RUN


@pytest.mark.postgres
def test_two_worker_processes_run_each_execution_exactly_once(store, database_url, tmp_path):
    canvas = Canvas(
        "bulk", (Node("Start", "t.start"), Node("Record", "t.record")), (Edge("Start", "Record"),)
    )
    store.save_canvas(canvas, "", [], NOW)
    run_ids = [
        store.start_run(
            "bulk",
            "Start",
            Event("start.manual", {"run": r}),
            [NewExecution("Record", Event("start.manual", {"i": i})) for i in range(PER_RUN)],
            NOW,
        )
        for r in range(RUNS)
    ]

    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    processes = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), database_url, str(log), f"p{n}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n, log in enumerate(logs, 1)
    ]
    ran = [int(p.communicate(timeout=120)[0].strip()) for p in processes]
    assert all(p.returncode == 0 for p in processes)

    lines = [line for log in logs if log.exists() for line in log.read_text().split()]
    counts = Counter(lines)
    assert len(counts) == COUNT and set(counts.values()) == {1}
    assert sum(ran) == COUNT
    for run_id in run_ids:
        run = store.get_run(run_id)
        assert run.state == "succeeded"
        assert {(e.state, e.attempts) for e in run.executions} == {("succeeded", 1)}
