"""The management API's runs: one run with what it waits for, the filtered, paged run
list, replay (one run, or many in one go), retrying a failed execution, bulk progress."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.errors import InvalidInput, Malformed, Problem
from incidentflow.recovery import MAX_BULK, Recovery
from incidentflow.run_filters import run_filter, run_ids
from incidentflow.web.api_requests import optional_json_object
from incidentflow.web.presenters import displayable_run, run_summary, run_view
from incidentflow.web.waiting import waits_view

if TYPE_CHECKING:
    from incidentflow.app_service import AppService

MAX_PAGE = 500


class RunsApi:
    def __init__(self, host: AppService):
        self.host, self.db, self.recovery = host, host.db, Recovery(host)

    async def get_run(self, request: Request) -> Response:
        run = await self.db.get_run(request.path_params["run_id"])
        waits = await self.db.run_waits(run.id)
        return JSONResponse({**run_view(displayable_run(run), self.host.registry),
                             "waitingFor": waits_view(run, waits)})

    async def list_runs(self, request: Request) -> Response:
        params = request.query_params
        where = run_filter(request.path_params["name"], params, self.host.clock())
        await self.db.get_canvas(where.canvas)  # NotFound: 404
        page = await self.db.find_runs(where, _limit(params.get("limit")),
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
        body = await optional_json_object(request)
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
            Route("/runs/{run_id}", self.get_run, methods=["GET"]),
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
