"""The management API's runs at scale and recovery: the filtered, paged run list,
replay (one run, or many in one go), retrying a failed execution, bulk progress."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.errors import InvalidInput, Malformed, Problem
from incidentflow.recovery import MAX_BULK, Recovery
from incidentflow.run_filters import run_filter, run_ids
from incidentflow.web.presenters import run_summary, run_view

if TYPE_CHECKING:
    from incidentflow.app_service import AppService

BodyReader = Callable[[Request], Awaitable[dict[str, Any]]]
MAX_PAGE = 500


class RunsApi:
    def __init__(self, host: AppService, body: BodyReader):
        self.host, self.recovery, self._body = host, Recovery(host), body

    async def list_runs(self, request: Request) -> Response:
        params = request.query_params
        where = run_filter(request.path_params["name"], params, self.host.clock())
        await _thread(self.host.store.get_canvas, where.canvas)  # NotFound: 404
        page = await _thread(self.host.store.find_runs, where, _limit(params.get("limit")),
                             params.get("before") or None)
        return JSONResponse({"runs": [run_summary(r) for r in page.runs], "total": page.total,
                             "nextBefore": page.next_before})

    async def replay_run(self, request: Request) -> Response:
        run_id = await self.recovery.replay_run(request.path_params["run_id"])
        return JSONResponse({"runId": run_id, "replayOf": request.path_params["run_id"]},
                            status_code=202)

    async def replay_runs(self, request: Request) -> Response:
        """``{canvas, state?, node?, since?, until?}`` or ``{canvas, ids}``; with
        ``"dryRun": true`` only how many would be replayed (for a confirmation)."""
        body = await self._body(request)
        canvas = body.get("canvas")
        if not isinstance(canvas, str) or not canvas:
            raise InvalidInput("canvas is required",
                               [Problem("is required (the canvas whose runs to replay)",
                                        field="canvas")])
        where = run_filter(canvas, body, self.host.clock())
        if "ids" in body:
            where = replace(where, ids=run_ids(body["ids"]))
        elif not (where.states or where.since or where.node):
            raise InvalidInput("say which runs", [Problem(
                "give ids, or a state, node or since to choose the runs", field="state")])
        if body.get("dryRun") is True:
            ids, matched = await self.recovery.matching(where)
            return JSONResponse({"matched": matched, "wouldReplay": len(ids),
                                 "max": MAX_BULK})
        bulk = await self.recovery.replay_many(where)
        return JSONResponse({
            "batch": bulk.batch, "runIds": bulk.run_ids, "count": len(bulk.run_ids),
            "matched": bulk.matched, "skipped": bulk.skipped, "max": MAX_BULK,
        }, status_code=202)

    async def replay_progress(self, request: Request) -> Response:
        progress = await self.recovery.progress(request.path_params["batch"])
        return JSONResponse({"total": progress.total, "done": progress.done,
                             "byState": progress.by_state})

    async def retry_execution(self, request: Request) -> Response:
        p = request.path_params
        run = await self.recovery.retry_execution(p["run_id"], p["execution_id"])
        return JSONResponse(run_view(run, self.host.registry), status_code=202)

    def routes(self) -> list[Route]:
        return [
            Route("/canvases/{name}/runs", self.list_runs, methods=["GET"]),
            Route("/runs/replay", self.replay_runs, methods=["POST"]),
            Route("/runs/{run_id}/replay", self.replay_run, methods=["POST"]),
            Route("/runs/{run_id}/executions/{execution_id}/retry", self.retry_execution,
                  methods=["POST"]),
            Route("/replays/{batch}", self.replay_progress, methods=["GET"]),
        ]


def _limit(raw: str | None) -> int:
    raw = raw or "50"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Malformed(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


async def _thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await anyio.to_thread.run_sync(partial(fn, *args))
