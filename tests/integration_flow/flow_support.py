"""An in-process incidentflow wired to the incident.io emulator (import as ``flow_support``).

The web app (``create_app``, no background worker) and a ``Worker`` share one store, one
secret box and one injected clock; every outgoing call reaches the emulator app through
``httpx.ASGITransport``. Tests drive the engine by hand: ``await flow.work()`` runs
everything due at the clock's time, ``flow.clock.advance(...)`` moves time on.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from helpers import signed_headers
from starlette.applications import Starlette

from incidentflow.app_service import AppService
from incidentflow.emulator import EmulatorState
from incidentflow.engine.worker import Worker

EMULATOR_KEY = "flow-emulator-key"
EMULATOR_URL = "http://incidentio.test"
PUBLIC_URL = "https://flows.example.com"
MINOR = "01FCNDV6P870EA6S7TK1DSYDG0"
MAJOR = "01FCNDV6P870EA6S7TK1DSYDG1"
CREATED = "public_incident.incident_created_v2"
UPDATED = "public_incident.incident_updated_v2"

CANVAS = f"""
name: mirror
nodes:
  - name: On Incident
    type: incident.onIncident
    configuration: {{events: [{CREATED}]}}
  - name: Only majors
    type: filter
    configuration: {{expression: "root.data.incident.severity.name == 'Major'"}}
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "NAME"
      severityId: SEVERITY
      visibility: private
edges:
  - {{from: On Incident, to: Only majors}}
  - {{from: Only majors, to: Open follow-up}}
"""


def canvas_yaml(name: str = "[follow-up] {{ root.data.incident.name }}",
                severity: str = MAJOR) -> str:
    return CANVAS.replace("NAME", name).replace("SEVERITY", severity)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Clock:
    """The one "now" of the host, the worker and signature checks."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Switchable(httpx.AsyncBaseTransport):
    """The emulator's transport, or a refused connection while ``down`` (an outage)."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner, self.down = inner, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@dataclass
class Flow:
    app: Starlette
    worker: Worker
    clock: Clock
    web: httpx.AsyncClient  # to our app
    incidentio: httpx.AsyncClient  # to the emulator (API and /_emulator hooks)
    network: Switchable
    emulator_state: EmulatorState
    database_url: str
    sleeps: list[float] = field(default_factory=list)

    @property
    def host(self) -> AppService:
        return self.app.state.host  # type: ignore[no-any-return]

    # -- set-up steps, as a person would do them ------------------------------------------
    async def connect_integration(self) -> dict[str, Any]:
        return await self.host.integrations.put_integration(
            "incident", "incident", {"apiKey": EMULATOR_KEY, "baseUrl": EMULATOR_URL})

    async def apply(self, text: str) -> httpx.Response:
        return await self.web.put("/api/v1/canvases/mirror", content=text,
                                  headers={"Content-Type": "application/yaml"})

    async def set_secret(self, secret: str | None, node: str = "On Incident") -> dict[str, Any]:
        return await self.host.canvases.run_hook("mirror", node, "setSecret",
                                        {"webhookSigningSecret": secret})

    async def live(self, node: str = "On Incident") -> dict[str, Any]:
        view = await self.host.canvas_views.canvas_view("mirror")
        return dict(next(n for n in view["nodes"] if n["name"] == node)["live"])

    async def endpoint_id(self) -> str:
        return str((await self.live())["webhookUrl"]).rsplit("/", 1)[1]

    # -- deliveries -----------------------------------------------------------------------
    def signed(self, secret: str, body: bytes, msg_id: str | None = None,
               skew: float = 0) -> dict[str, str]:
        return signed_headers(secret, body, msg_id, int(self.clock.now.timestamp() + skew))

    async def post(self, endpoint_id: str, body: bytes,
                   headers: dict[str, str]) -> httpx.Response:
        return await self.web.post(f"/webhooks/{endpoint_id}", content=body, headers=headers)

    async def deliver(self, secret: str, body: bytes, **options: Any) -> httpx.Response:
        return await self.post(await self.endpoint_id(), body, self.signed(secret, body, **options))

    # -- the engine and what it stored ----------------------------------------------------
    async def work(self) -> int:
        return await self.worker.drain()

    async def runs(self) -> list[Any]:
        return await self.host.canvases.list_runs("mirror")

    async def only_run(self) -> Any:
        [summary] = await self.runs()
        return await self.host.canvases.get_run(summary.id)

    def count(self, table: str) -> int:
        engine = sa.create_engine(self.database_url, poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
        finally:
            engine.dispose()

    async def deliveries(self) -> list[Any]:
        return await self.host.db.recent_deliveries(await self.endpoint_id())

    # -- the emulator ---------------------------------------------------------------------
    async def fault(self, **fault: Any) -> None:
        (await self.incidentio.post("/_emulator/faults", json=fault)).raise_for_status()

    async def create_calls(self) -> list[dict[str, Any]]:
        calls = (await self.incidentio.get("/_emulator/requests")).json()["requests"]
        return [c for c in calls if c["method"] == "POST" and c["path"] == "/v2/incidents"]

    def incidents(self) -> list[dict[str, Any]]:
        return list(self.emulator_state.incidents)
