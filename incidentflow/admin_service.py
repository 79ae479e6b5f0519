"""Operations shared by the API and the CLI: API tokens, replaying a run.

Sits next to the services of :class:`~incidentflow.app_service.AppService` (and uses
its store's async face, clock and wake-up) so the operational features do not grow the
host's hot paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from incidentflow import api_tokens as token_rows
from incidentflow.errors import InvalidInput, Problem
from incidentflow.log_setup import register_secret
from incidentflow.recovery import Recovery

if TYPE_CHECKING:

    from incidentflow.app_service import AppService
    from incidentflow.store.port import TokenRecord

T = TypeVar("T")


@dataclass(frozen=True)
class NewToken:
    record: TokenRecord
    token: str  # shown once; only its digest is stored


class AdminService:
    def __init__(self, host: AppService):
        self.host = host
        self.db = host.db

    # -- API tokens ------------------------------------------------------------------
    async def create_token(self, name: Any) -> NewToken:
        name = _token_name(name)
        token = token_rows.new_token()
        register_secret(token)
        record = await self.db.create_token(name, token_rows.hash_token(token),
                                            self.host.clock())
        return NewToken(record, token)

    async def list_tokens(self) -> list[TokenRecord]:
        """API tokens only: browser sessions share the table but are the UI's business."""
        rows = await self.db.list_tokens()
        return [row for row in rows if not row.is_session]

    async def revoke_token(self, token_id: str) -> TokenRecord:
        return await self.db.revoke_token(token_id, self.host.clock())

    # -- replay ------------------------------------------------------------------------
    async def replay_run(self, run_id: str) -> str:
        """Run the stored trigger event of ``run_id`` again, as a new run on the canvas's
        current version, linked to the original both ways (``incidentflow.recovery``).
        New executions mean new idempotency keys: a replay is meant to act again (e.g.
        open the incident the first run failed to open)."""
        return await Recovery(self.host).replay_run(run_id)


def _token_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("invalid token", [Problem("is required (e.g. \"ci\")", field="name")])
    name = name.strip()
    if len(name) > token_rows.MAX_NAME_LENGTH:
        raise InvalidInput("invalid token", [Problem(
            f"must be at most {token_rows.MAX_NAME_LENGTH} characters", field="name")])
    return name

