"""On Incident's catch-up poll, inside every worker (as ``engine.scheduler`` fires
schedules): for each On Incident node with ``catchUp.enabled``, every ``everyMinutes``
it lists the incidents updated since the newest one it saw (``GET /v2/incidents``) and
starts the runs whose webhook never arrived.

A change (incident id + ``updated_at``) runs once: the store records it in the
transaction that starts the run, and webhooks claim it before they are accepted
(``store.catch_up``), so a webhook and a poll of the same change, or two workers
polling at once, give one run. The poll starts from the moment it is first switched
on: it catches up on what is lost from then on, not on history. Paused canvases are
not polled; their poll resumes where it stopped. The incident.io call runs with no
transaction open (docs/design-rules.md, "No transaction around outside calls").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx

from incidentflow.canvas import Canvas, Node
from incidentflow.crypto import SecretBox
from incidentflow.engine.router import first_executions
from incidentflow.errors import NotFound
from incidentflow.events import Event, iso
from incidentflow.integrations.incidentio import catch_up, filters
from incidentflow.integrations.incidentio.client import IncidentIOClient
from incidentflow.integrations.incidentio.trigger import KINDS, OnIncident
from incidentflow.log_setup import register_secret
from incidentflow.store.port import Store

log = logging.getLogger(__name__)
TICK_SECONDS = 15.0


@dataclass(frozen=True)
class Polled:
    started: int  # runs started
    since: datetime  # the newest updated_at seen


class CatchUpPoller:
    def __init__(self, store: Store, box: SecretBox, http: httpx.AsyncClient,
                 clock: Callable[[], datetime]):
        self._store, self._box, self._http, self._clock = store.aio, box, http, clock
        # canvas name -> (version, its polling nodes); most canvases have none
        self._polling: dict[str, tuple[int, list[tuple[Canvas, Node]]]] = {}

    async def run(self) -> None:
        """Tick until cancelled; a failing tick is logged and the next one tries again."""
        while True:
            try:
                await self.tick()
            except Exception as exc:
                log.warning("catch-up tick failed: %s", exc)
            await anyio.sleep(TICK_SECONDS)

    async def tick(self) -> int:
        """Poll every node that is due; returns how many runs were started."""
        started = 0
        for canvas, node in await self._nodes():
            started += await self._maybe_poll(canvas, node)
        return started

    async def _nodes(self) -> list[tuple[Canvas, Node]]:
        """The polling nodes of canvases that are not paused. A canvas is read (and
        parsed) again only when its version changed: one small query per tick."""
        found = []
        versions = {}
        for summary in await self._store.list_canvases():
            versions[summary.name] = summary.version
            if summary.paused_at is not None:
                continue
            known = self._polling.get(summary.name)
            if known is None or known[0] != summary.version:
                record = await self._store.get_canvas(summary.name)
                known = (summary.version, _polling_nodes(record.canvas))
                self._polling[summary.name] = known
            found += known[1]
        for gone in set(self._polling) - set(versions):
            del self._polling[gone]
        return found

    async def _maybe_poll(self, canvas: Canvas, node: Node) -> int:
        now = self._clock()
        state = await self._store.catch_up_state(canvas.name, node.name)
        if state is None:  # switched on now: catch up from here on
            await self._note(canvas, node, now, now, 0, None)
            return 0
        every = timedelta(minutes=catch_up.read(node.configuration).every_minutes)
        if now - state.last_poll_at < every:
            return 0
        try:
            polled = await self.poll(canvas, node, state.since, now)
        except Exception as exc:  # shown on the node; the next poll tries again
            log.warning("catch-up poll of %s/%s failed: %s", canvas.name, node.name, exc)
            await self._note(canvas, node, state.since, now, 0, str(exc)[:500])
            return 0
        await self._note(canvas, node, polled.since, now, polled.started, None)
        return polled.started

    async def poll(self, canvas: Canvas, node: Node, since: datetime, now: datetime) -> Polled:
        client = IncidentIOClient.from_config(await self._integration(node), self._http)
        incidents = await client.incidents_updated_since(since)
        newest, started = since, 0
        for incident in incidents:
            updated = _timestamp(incident.get("updated_at"))
            # Strictly after: the newest change seen (since) ran already, and its row
            # is dropped after two days (store.catch_up), after which it would again.
            if updated is None or updated <= since:
                continue
            newest = max(newest, updated)
            event = caught_up_event(node.configuration, incident, now)
            if event is not None and await self._start(canvas, node, incident, event, now):
                started += 1
        if started:
            log.info("catch-up %s/%s: %d run(s) for webhooks that never arrived",
                     canvas.name, node.name, started)
        return Polled(started, newest)

    async def _start(self, canvas: Canvas, node: Node, incident: dict[str, Any],
                     event: Event, now: datetime) -> bool:
        first = first_executions(canvas, node.name, event)
        run_id = await self._store.start_caught_up_run(
            canvas.name, node.name, str(incident["id"]), str(incident["updated_at"]), event,
            first, now)
        return run_id is not None

    async def _integration(self, node: Node) -> dict[str, Any]:
        if node.integration is None:  # what the store would answer for no name
            raise NotFound(f"node {node.name!r} names no integration to poll with")
        record = await self._store.get_integration(node.integration)
        plain = {k: self._box.decrypt(v) for k, v in record.secrets_encrypted.items()}
        for value in plain.values():
            register_secret(value)
        return {**record.config, **plain}

    async def _note(self, canvas: Canvas, node: Node, since: datetime, polled_at: datetime,
                    found: int, error: str | None) -> None:
        await self._store.note_catch_up_poll(canvas.name, node.name, since, polled_at, found,
                                             error)


def _polling_nodes(canvas: Canvas) -> list[tuple[Canvas, Node]]:
    return [(canvas, node) for node in canvas.nodes
            if node.type == OnIncident.type and node.integration
            and catch_up.read(node.configuration).enabled]


def caught_up_event(config: dict[str, Any], incident: dict[str, Any],
                    now: datetime) -> Event | None:
    """The event a webhook about this incident's latest change would have started, if
    the node selected it and its filters let it through: created when the incident
    has not changed since it was opened, updated otherwise."""
    if not isinstance(incident.get("id"), str) or not isinstance(incident.get("updated_at"), str):
        return None
    if incident.get("visibility") == "private":
        # A private delivery names only the id and is fetched later, with no
        # updated_at to deduplicate on: polling private incidents could run a change
        # twice, so they are left to their webhooks.
        return None
    change = "created" if incident.get("created_at") == incident["updated_at"] else "updated"
    event_type = f"public_incident.incident_{change}_v2"
    selected = config.get("events") or list(OnIncident.default_events)
    if event_type not in selected:
        return None
    data = {"event_type": event_type, "incident": incident}
    if filters.filtered_out(config, incident):
        return None
    return Event(KINDS[event_type].emitted, data, iso(now))


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
