"""Recovering runs: replay one run, replay many (a selection, or every run a filter
matches, e.g. the failed runs of the last hour), retry a failed execution. Shared by
the API, the UI and the CLI.

A replay starts a new run of the stored trigger event on the canvas's current
version, linked to the original both ways (``replay_of`` / "replayed as"). Its
executions are new, with new idempotency keys: a replay is meant to act again. A retry
queues the failed execution itself again, with its idempotency key. Both go through
the worker, so every create still passes the create rate limit and is recorded for
the self-trigger guard (docs/runaway.md, docs/rate-limits.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from incidentflow.canvas_service import refuse_if_paused
from incidentflow.engine.router import first_executions
from incidentflow.errors import InvalidInput, NotFound, Problem
from incidentflow.store.port import NewExecution, RunFilter, RunRecord, new_id

if TYPE_CHECKING:
    from incidentflow.app_service import AppService
    from incidentflow.store.port import CanvasRecord

# One bulk replay starts at most this many runs (one transaction); more matching runs
# are reported, and a narrower window replays the rest.
MAX_BULK = 500


@dataclass(frozen=True)
class BulkReplay:
    batch: str  # follow its progress with ``progress(batch)``
    run_ids: list[str]  # the new runs, in the order of the originals
    matched: int  # how many runs the selection matched (may exceed MAX_BULK)
    skipped: dict[str, str] = field(default_factory=dict)  # original run id -> why not


@dataclass(frozen=True)
class Progress:
    total: int
    by_state: dict[str, int]

    @property
    def done(self) -> int:
        return self.total - self.by_state.get("running", 0)


class Recovery:
    def __init__(self, host: AppService):
        self.host = host
        self.db = host.db

    async def replay_run(self, run_id: str) -> str:
        run = await self.db.get_run(run_id)
        record = await self.db.get_canvas(run.canvas)
        refuse_if_paused(record.name, record.paused_at)
        first = _first(record, run)
        if first is None:
            raise InvalidInput(
                f"cannot replay: canvas {run.canvas!r} no longer has node {run.trigger_node!r}",
                [Problem("the trigger node was removed", node=run.trigger_node)],
            )
        [started] = await self.db.start_replays([(run, first)], None, self.host.clock())
        self.host.wake()
        return started

    async def matching(self, where: RunFilter) -> tuple[list[str], int]:
        """The ids a bulk replay of ``where`` would take, and how many match."""
        return await self.db.run_ids(where, MAX_BULK)

    async def replay_many(self, where: RunFilter) -> BulkReplay:
        """Replay the runs ``where`` matches (at most MAX_BULK, oldest first)."""
        record = await self.db.get_canvas(where.canvas)
        refuse_if_paused(record.name, record.paused_at)
        ids, matched = await self.matching(where)
        # One read of the chosen runs (trigger events, no executions), oldest first.
        chosen: list[RunRecord] = []
        if ids:  # (an empty ``ids`` filter would mean every run)
            page = await self.db.find_runs(RunFilter(where.canvas, ids=tuple(ids)), len(ids))
            chosen = page.runs[::-1]
        replays: list[tuple[RunRecord, list[NewExecution]]] = []
        skipped: dict[str, str] = {}
        for run in chosen:
            first = _first(record, run)
            if first is None:
                skipped[run.id] = f"the canvas no longer has node {run.trigger_node!r}"
            else:
                replays.append((run, first))
        batch = new_id()
        started = await self.db.start_replays(replays, batch, self.host.clock())
        if started:
            self.host.wake()
        return BulkReplay(batch, started, matched, skipped)

    async def progress(self, batch: str) -> Progress:
        runs = await self.db.replay_batch(batch)
        if not runs:
            raise NotFound(f"bulk replay {batch!r} does not exist")
        by_state: dict[str, int] = {}
        for run in runs:
            by_state[run.state] = by_state.get(run.state, 0) + 1
        return Progress(len(runs), by_state)

    async def retry_execution(self, run_id: str, execution_id: str) -> RunRecord:
        run = await self.db.get_run(run_id)
        record = await self.db.get_canvas(run.canvas)
        refuse_if_paused(record.name, record.paused_at)
        retried = await self.db.retry_execution(run_id, execution_id, self.host.clock())
        self.host.wake()
        return retried


def _first(record: CanvasRecord, run: RunRecord) -> list[NewExecution] | None:
    """The first executions of a replay of ``run``; None if its trigger node is gone."""
    try:
        record.canvas.node(run.trigger_node)
    except KeyError:
        return None
    return list(first_executions(record.canvas, run.trigger_node, run.root))
