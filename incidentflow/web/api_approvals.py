"""The management API's approvals and cancelling waiting runs (docs/time.md): decide an
approval, the approvals waiting for the caller, cancel a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.approvals import Approvals, decision_in
from incidentflow.web.api_requests import json_body, who
from incidentflow.web.waiting import approval_view

if TYPE_CHECKING:
    from incidentflow.app_service import AppService


class ApprovalsApi:
    def __init__(self, host: AppService):
        self.approvals = Approvals(host)

    async def decide(self, request: Request) -> Response:
        decision = decision_in(await json_body(request))
        p = request.path_params
        wait = await self.approvals.decide(p["run_id"], p["node"], decision, who(request))
        return JSONResponse({"runId": wait.run_id, "node": wait.node,
                             "executionId": wait.execution_id,
                             "decision": decision.decision, "by": who(request),
                             "comment": decision.comment})

    async def waiting_approvals(self, request: Request) -> Response:
        found = await self.approvals.waiting_for(who(request))
        return JSONResponse({"approvals": [approval_view(w) for w in found]})

    async def cancel_run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        await self.approvals.cancel(run_id, who(request))
        return JSONResponse({"runId": run_id, "state": "cancelled"})

    def routes(self) -> list[Route]:
        return [
            Route("/runs/{run_id}/cancel", self.cancel_run, methods=["POST"]),
            Route("/runs/{run_id}/approvals/{node}", self.decide, methods=["POST"]),
            Route("/approvals", self.waiting_approvals, methods=["GET"]),
        ]
