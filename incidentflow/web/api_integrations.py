"""The management API's integrations: list, read, create or update (validated against
the service), delete, and the organisation's resources an integration lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.errors import InvalidInput, Malformed, Problem
from incidentflow.web.api_requests import json_body

if TYPE_CHECKING:
    from incidentflow.app_service import AppService


class IntegrationsApi:
    def __init__(self, host: AppService):
        self.integrations = host.integrations

    async def list_integrations(self, request: Request) -> Response:
        return JSONResponse({"integrations": await self.integrations.list_integrations()})

    async def get_integration(self, request: Request) -> Response:
        return JSONResponse(
            await self.integrations.get_integration(request.path_params["name"]))

    async def put_integration(self, request: Request) -> Response:
        type_, configuration = _integration_request(await json_body(request))
        view = await self.integrations.put_integration(
            request.path_params["name"], type_, configuration)
        return JSONResponse(view)

    async def delete_integration(self, request: Request) -> Response:
        await self.integrations.delete_integration(request.path_params["name"])
        return Response(status_code=204)

    async def list_resources(self, request: Request) -> Response:
        resource_type = request.query_params.get("type")
        if not resource_type:
            raise Malformed("the query parameter 'type' is required (e.g. ?type=severity)")
        query = request.query_params.get("query", "")  # searchable types, e.g. users
        resources = await self.integrations.list_resources(
            request.path_params["name"], resource_type, query)
        return JSONResponse({"resources": resources})

    def routes(self) -> list[Route]:
        return [
            Route("/integrations", self.list_integrations, methods=["GET"]),
            Route("/integrations/{name}", self.get_integration, methods=["GET"]),
            Route("/integrations/{name}", self.put_integration, methods=["PUT"]),
            Route("/integrations/{name}", self.delete_integration, methods=["DELETE"]),
            Route("/integrations/{name}/resources", self.list_resources, methods=["GET"]),
        ]


def _integration_request(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    type_ = body.get("type")
    configuration = body.get("configuration", {})
    problems = []
    if not isinstance(type_, str) or not type_:
        problems.append(Problem("is required (e.g. \"incident\")", field="type"))
    if not isinstance(configuration, dict):
        problems.append(Problem("must be an object", field="configuration"))
    if problems:
        raise InvalidInput("invalid integration", problems)
    return str(type_), configuration
