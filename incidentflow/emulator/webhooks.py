"""Signed webhook delivery with Svix-style retries.

incident.io sends webhooks through Svix: the first attempt at once, then retries after
5s, 5min, 30min, 2h, 5h, 10h and 10h while the receiver fails (non-2xx or network
error). Every attempt carries the same webhook-id and a fresh timestamp and signature.
Tests pass a scaled-down ``schedule``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from incidentflow.emulator.ids import format_timestamp, new_message_id
from incidentflow.emulator.signing import signed_headers
from incidentflow.emulator.state import Attempt, Delivery, EmulatorState, WebhookEndpoint

log = logging.getLogger(__name__)

# Seconds to wait before each attempt (the first is immediate).
SVIX_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
ATTEMPT_TIMEOUT = 15.0


def event_body(event_type: str, incident: dict[str, Any]) -> bytes:
    """The real delivery form: ``{"event_type": T, T: {...}}``; private events carry the id."""
    resource = {"id": subject_id(incident)} if event_type.startswith("private_") else incident
    return json.dumps({"event_type": event_type, event_type: resource}).encode()


def subject_id(resource: dict[str, Any]) -> Any:
    """The id a private delivery carries: the resource's own, or for a wrapper such as
    ``{incident, previous_status, new_status}`` the id of the object it is about."""
    if "id" in resource:
        return resource["id"]
    for key in ("incident", "escalation", "follow_up", "alert"):
        inner = resource.get(key)
        if isinstance(inner, dict) and "id" in inner:
            return inner["id"]
    raise ValueError("the event's resource has no id")


def incident_event_type(incident: dict[str, Any], change: str) -> str:
    """``change`` is ``created`` or ``updated``."""
    visibility = "private" if incident["visibility"] == "private" else "public"
    return f"{visibility}_incident.incident_{change}_v2"


def status_update(incident: dict[str, Any], previous_status: dict[str, Any],
                  message: str | None = None) -> dict[str, Any]:
    """What ``public_incident.incident_status_updated_v2`` carries."""
    # ``message`` is a string in incident.io's schema: empty when the change came
    # without one (the edit API takes no message).
    return {"incident": incident, "previous_status": previous_status,
            "new_status": incident["incident_status"], "message": message or ""}


class WebhookDispatcher:
    def __init__(
        self,
        state: EmulatorState,
        schedule: Sequence[float] = SVIX_SCHEDULE,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if not schedule:
            raise ValueError("retry schedule needs at least one attempt")
        self.state = state
        self.schedule = tuple(schedule)
        self.transport = transport
        self._tasks: set[asyncio.Task[None]] = set()

    def publish(self, event_type: str, resource: dict[str, Any]) -> list[Delivery]:
        """Send ``event_type`` about ``resource`` (as the API returns it; a status
        update's wrapper for those) to every endpoint subscribed to it, signed. The
        entry point of every endpoint that changes something."""
        body = event_body(event_type, resource)
        return [
            self._start(endpoint, event_type, body)
            for endpoint in list(self.state.endpoints.values())
            if endpoint.wants(event_type)
        ]

    def publish_incident(self, incident: dict[str, Any], change: str) -> list[Delivery]:
        return self.publish(incident_event_type(incident, change), incident)

    def publish_incident_edit(
        self, incident: dict[str, Any], previous_status: dict[str, Any],
        message: str | None = None,
    ) -> list[Delivery]:
        """An edit: incident updated, and, when its status moved, the status update
        with the previous and new status (incident.io sends none for private ones)."""
        sent = self.publish_incident(incident, "updated")
        moved = previous_status.get("id") != incident["incident_status"].get("id")
        if moved and incident["visibility"] != "private":
            sent += self.publish("public_incident.incident_status_updated_v2",
                                 status_update(incident, previous_status, message))
        return sent

    def replay(self, delivery: Delivery) -> Delivery:
        """Send a recorded message again with the same webhook-id, as Svix's resend does."""
        endpoint = self.state.endpoints.get(delivery.endpoint_id)
        if endpoint is None:
            raise LookupError("the delivery's endpoint no longer exists")
        delivery.status = "pending"
        self._spawn(delivery, endpoint)
        return delivery

    def _start(self, endpoint: WebhookEndpoint, event_type: str, body: bytes) -> Delivery:
        delivery = Delivery(new_message_id(), endpoint.id, endpoint.url, event_type, body)
        self.state.deliveries.append(delivery)
        self._spawn(delivery, endpoint)
        return delivery

    def _spawn(self, delivery: Delivery, endpoint: WebhookEndpoint) -> None:
        task = asyncio.get_running_loop().create_task(self._run(delivery, endpoint))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, delivery: Delivery, endpoint: WebhookEndpoint) -> None:
        async with httpx.AsyncClient(transport=self.transport, timeout=ATTEMPT_TIMEOUT) as http:
            for delay in self.schedule:
                await asyncio.sleep(delay)
                if await self._attempt(http, delivery, endpoint):
                    delivery.status = "delivered"
                    return
        delivery.status = "failed"

    async def _attempt(
        self, http: httpx.AsyncClient, delivery: Delivery, endpoint: WebhookEndpoint
    ) -> bool:
        moment = self.state.clock()
        attempt = Attempt(
            number=len(delivery.attempts) + 1,
            at=format_timestamp(moment),
            webhook_timestamp=int(moment.timestamp()),
        )
        delivery.attempts.append(attempt)
        headers = signed_headers(
            endpoint.secret, delivery.id, attempt.webhook_timestamp, delivery.body
        )
        try:
            response = await http.post(endpoint.url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
            log.info("webhook %s to %s failed: %s", delivery.id, endpoint.url, attempt.error)
            return False
        attempt.status_code = response.status_code
        return response.is_success

    async def wait_sent(self, deliveries: Sequence[Delivery], timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until each delivery's first attempt is
        on its way; False if one was not by then."""
        deadline = asyncio.get_running_loop().time() + timeout
        while any(not d.attempts for d in deliveries):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> bool:
        """Wait until no delivery is in flight; False if ``timeout`` passed first."""
        if not self._tasks:
            return True
        _, still_running = await asyncio.wait(set(self._tasks), timeout=timeout)
        return not still_running

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
