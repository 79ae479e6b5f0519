"""The management API's credentials: API tokens (created, listed, revoked; a token is
shown once) and secrets for canvases (values go in, never come out)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incidentflow.admin_service import AdminService
from incidentflow.events import iso
from incidentflow.secrets_service import check_name, secret_view, value_in
from incidentflow.store.port import TokenRecord
from incidentflow.web.api_requests import json_body

if TYPE_CHECKING:
    from incidentflow.app_service import AppService


class CredentialsApi:
    def __init__(self, host: AppService):
        self.ops = AdminService(host)
        self.secrets = host.secrets

    # -- API tokens --------------------------------------------------------------------
    async def create_token(self, request: Request) -> Response:
        body = await json_body(request)
        created = await self.ops.create_token(body.get("name"))
        # The only time the token is ever shown.
        return JSONResponse({**token_view(created.record), "token": created.token},
                            status_code=201)

    async def list_tokens(self, request: Request) -> Response:
        return JSONResponse({"tokens": [token_view(t) for t in await self.ops.list_tokens()]})

    async def revoke_token(self, request: Request) -> Response:
        record = await self.ops.revoke_token(request.path_params["token_id"])
        return JSONResponse(token_view(record))

    # -- secrets for canvases ------------------------------------------------------------
    async def list_secrets(self, request: Request) -> Response:
        return JSONResponse({"secrets": [secret_view(r) for r in await self.secrets.records()]})

    async def put_secret(self, request: Request) -> Response:
        name = check_name(request.path_params["name"])
        value = value_in(await json_body(request))
        return JSONResponse(secret_view(await self.secrets.put(name, value)))

    async def delete_secret(self, request: Request) -> Response:
        await self.secrets.delete(check_name(request.path_params["name"]))
        return Response(status_code=204)

    def routes(self) -> list[Route]:
        return [
            Route("/tokens", self.list_tokens, methods=["GET"]),
            Route("/tokens", self.create_token, methods=["POST"]),
            Route("/tokens/{token_id}", self.revoke_token, methods=["DELETE"]),
            Route("/secrets", self.list_secrets, methods=["GET"]),
            Route("/secrets/{name}", self.put_secret, methods=["PUT"]),
            Route("/secrets/{name}", self.delete_secret, methods=["DELETE"]),
        ]


def token_view(record: TokenRecord) -> dict[str, Any]:
    """A token's metadata (the token itself is never stored, so never returned)."""
    return {
        "id": record.id,
        "name": record.name,
        "createdAt": iso(record.created_at),
        "lastUsedAt": iso(record.last_used_at) if record.last_used_at else None,
        "revoked": record.revoked,
        "revokedAt": iso(record.revoked_at) if record.revoked_at else None,
    }
