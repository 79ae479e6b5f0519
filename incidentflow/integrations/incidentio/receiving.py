"""What every incident.io trigger shares: receiving a signed delivery, and fetching the
object of a private one as the run's first step.

A trigger lists the incident.io event types it takes (``event_types.EventKind``). A
delivery of a type it does not take, or of one the node did not select, is
acknowledged (2xx, so incident.io stops retrying) and starts nothing; the delivery log
says why.

Private deliveries (``private_*``) carry only an id. When the node names its
``incident`` integration, the delivery is acknowledged at once and starts a run whose
first step is this trigger's own execution: it fetches the object through the API
(``GET /v2/{collection}/{id}``, retried like any step) and emits the same ``type`` and
shape as the public event, ``event_type`` being the private name; that event also
becomes the run's trigger event (``root``). Without an integration there is nothing
to fetch with: the delivery is acknowledged and logged as ignored with the reason,
never dropped silently, and saving the canvas warns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from incidentflow.components.base import (
    Emission,
    ExecutionContext,
    Field,
    Option,
    RejectionCode,
    RemoteCheck,
    WebhookRequest,
    WebhookTrigger,
    WebhookVerdict,
)
from incidentflow.components.standard_webhooks import SignatureError, secret_problem, verify
from incidentflow.errors import PermanentError, Problem
from incidentflow.events import Event, iso
from incidentflow.integrations.incidentio.client import (
    PRIVATE_PERMISSION,
    IncidentIOClient,
    IncidentIORejected,
    Sleep,
)
from incidentflow.integrations.incidentio.event_types import EventKind
from incidentflow.jsontext import JsonRejected, decode

log = logging.getLogger(__name__)

SECRET_FIELD = WebhookTrigger.SECRET_PARAM
# Where ``receiving_config`` puts the node's integration name for ``receive``: not a
# field name (those are camelCase words), so it never meets a configuration value.
NAMED_INTEGRATION = "@integration"
# Emissions of a fetched private object that the node's filters keep out: recorded on
# this channel (no edge can subscribe to it), so the run page shows what was fetched.
FILTERED_CHANNEL = "filtered"

OK = "ok"
NOT_SELECTED = "event type not selected"
NO_INTEGRATION = ("private event not fetched: the node names no incident integration "
                  "(its deliveries carry only an id; set the node's integration)")

SECRET_HOOK = WebhookTrigger.secret_hook(
    "Signing secret from incident.io",
    "From incident.io Settings > Webhooks (whsec_…). Leave empty to clear it.")


def self_trigger_field(what: str) -> Field:
    return Field(
        WebhookTrigger.SELF_TRIGGER_OPT_IN, "boolean", "Allow self-triggered runs",
        default=False,
        description=f"Off: {what} this canvas opened itself does not start it again; "
        "such deliveries are logged as ignored. Turn on only for a canvas meant to "
        f"react to its own {what.split()[-1]}s.",
    )


def events_field(kinds: Mapping[str, EventKind], default: tuple[str, ...]) -> Field:
    return Field(
        "events", "multiselect", "Events", required=True, default=list(default),
        options=tuple(Option(k.incoming, k.label) for k in kinds.values()),
        description="incident.io's event types; subscribe the webhook endpoint in "
                    "incident.io to the same ones.",
    )


class IncidentIOTrigger(WebhookTrigger):
    """Base of On Incident, On Follow-up, On Alert and On Escalation."""

    integration = "incident"
    # Receiving needs only the signing secret; the integration is needed to fetch
    # what private deliveries point at (docs/design-rules.md, "Seed compatibility").
    integration_optional = True
    hooks = (SECRET_HOOK,)
    kinds: ClassVar[dict[str, EventKind]] = {}
    default_events: ClassVar[tuple[str, ...]] = ()

    def __init__(self, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep  # the client's pause between quick retries (tests inject one)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # What the reference page lists: every type this trigger's kinds emit, in order.
        cls.emits = tuple(dict.fromkeys(kind.emitted for kind in cls.kinds.values()))

    # -- saving ----------------------------------------------------------------------
    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        events = config.get("events", list(self.default_events))
        if not isinstance(events, list) or not events:
            return [Problem("select at least one event", node, "events")]
        unknown = [e for e in events if e not in self.kinds]
        if unknown:
            return [Problem(f"unknown event type(s): {', '.join(map(str, unknown))}",
                            node, "events")]
        return []

    async def check_remote(
        self, node: str, config: Mapping[str, Any], integration: Mapping[str, Any] | None,
        http: httpx.AsyncClient,
    ) -> RemoteCheck:
        private = [e for e in _selected(config, self.default_events) if e.startswith("private_")]
        if private and integration is None:
            return RemoteCheck(warnings=[Problem(
                "private events are selected but the node names no incident integration: "
                "their deliveries carry only an id and will be ignored (logged) until it "
                "does", node, "integration")])
        return RemoteCheck()

    # -- receiving -------------------------------------------------------------------
    def secret_problem(self, secret: str, config: Mapping[str, Any]) -> str | None:
        problem = secret_problem(secret)
        return f"{problem} (copy it from incident.io)" if problem else None

    def receiving_config(
        self, configuration: Mapping[str, Any], integration: str | None
    ) -> Mapping[str, Any]:
        return {**configuration, NAMED_INTEGRATION: integration}

    def receive(
        self, request: WebhookRequest, secrets: list[str], config: Mapping[str, Any],
        now: datetime,
    ) -> WebhookVerdict:
        if not secrets:
            # Fail closed and say so plainly (docs/design-rules.md, "Fail closed"); the
            # operator sees it in incident.io's delivery log.
            return WebhookVerdict.rejected(RejectionCode.NO_SECRET, "signing secret not set")
        try:
            signed = verify(secrets, request.headers, request.body, now)
        except SignatureError as exc:
            return WebhookVerdict.rejected(exc.code, str(exc))
        if not request.sends_json:  # only after verification: strangers learn just 403
            return WebhookVerdict.not_json(request)
        try:
            payload = read_payload(request.body)
            kind = self.kinds.get(payload["event_type"])
            if kind is None or kind.incoming not in _selected(config, self.default_events):
                return WebhookVerdict(200, OK, NOT_SELECTED, dedupe_key=signed.msg_id)
            event, reason = self._event(kind, payload, config, now)
        except ValueError as exc:
            return WebhookVerdict.rejected(RejectionCode.MALFORMED_BODY, str(exc),
                                           dedupe_key=signed.msg_id)
        if event is None:
            return WebhookVerdict(200, OK, reason, dedupe_key=signed.msg_id)
        return WebhookVerdict(200, OK, "accepted", events=(event,), dedupe_key=signed.msg_id)

    def _event(
        self, kind: EventKind, payload: dict[str, Any], config: Mapping[str, Any],
        now: datetime,
    ) -> tuple[Event | None, str]:
        found, extras = object_of(payload, kind)
        if kind.private:
            if not config.get(NAMED_INTEGRATION):
                return None, NO_INTEGRATION
            object_id = found.get("id")
            if not isinstance(object_id, str) or not object_id:
                raise ValueError(f"body has no {kind.key} id for {kind.incoming}")
            found, extras = {"id": object_id}, {}
        data = {"event_type": kind.incoming, kind.key: found, **self.extras(kind, extras)}
        if not kind.private and (reason := self.screen(config, data)):
            return None, reason
        return Event(type=kind.emitted, data=data, timestamp=iso(now)), ""

    def extras(self, kind: EventKind, extras: dict[str, Any]) -> dict[str, Any]:
        """The event's own fields beside its object (a status update's statuses)."""
        return extras

    def screen(self, config: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
        """Why the node's filters keep this event from starting a run, or None."""
        return None

    # -- the first step of a private delivery's run ----------------------------------
    def first_step(self, event: Event) -> bool:
        data = event.data if isinstance(event.data, dict) else {}
        return str(data.get("event_type", "")).startswith("private_")

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        """Fetch the object a private delivery named; emit it as the public event."""
        data = ctx.input.data if isinstance(ctx.input.data, dict) else {}
        kind = self.kinds.get(str(data.get("event_type")))
        pointer = data.get(kind.key) if kind is not None else None
        if kind is None or kind.fetch is None or not isinstance(pointer, dict):
            raise PermanentError(f"{self.type} has nothing to fetch for {data.get('event_type')!r}")
        if ctx.integration is None:
            raise PermanentError(NO_INTEGRATION)
        client = IncidentIOClient.from_config(ctx.integration, ctx.http, sleep=self._sleep)
        found = await _fetch(client, kind, str(pointer.get("id")))
        event = Event(kind.emitted, {"event_type": kind.incoming, kind.key: found},
                      ctx.input.timestamp)
        reason = self.screen(ctx.config, event.data)
        if reason:
            log.info("%s/%s: fetched %s %s %s", ctx.canvas, ctx.node, kind.key,
                     found.get("id"), reason)
            return [Emission(event, channel=FILTERED_CHANNEL, root=True)]
        return [Emission(event, root=True)]

    # -- the self-trigger guard ------------------------------------------------------
    def subject_id(self, event: Event) -> str | None:
        kind = self.kinds.get(str(event.data.get("event_type"))) if isinstance(
            event.data, dict) else None
        found = event.data.get(kind.key) if kind is not None else None
        value = found.get("id") if isinstance(found, dict) else None
        return value if isinstance(value, str) and value else None


async def _fetch(client: IncidentIOClient, kind: EventKind, object_id: str) -> dict[str, Any]:
    assert kind.fetch is not None
    try:
        return await client.fetch_object(kind.fetch, object_id, kind.key)
    except IncidentIORejected as exc:
        if exc.status != 404:
            raise
        # incident.io answers 404 for a private incident the key may not see.
        raise PermanentError(
            f"incident.io has no {kind.key} {object_id} visible to this API key (404): "
            f'it was deleted, or the key lacks "{PRIVATE_PERMISSION}"'
            + (f" [request_id {exc.request_id}]" if exc.request_id else ""),
            exc.details,
        ) from exc


def read_payload(body: bytes) -> dict[str, Any]:
    """The delivery as ``{"event_type": T, ...}``, whichever of our three shapes it uses:

    - real deliveries   ``{"event_type": T, T: {...}}``
    - data-wrapped      ``{"data": {"event_type": T, "incident": {...}}}`` (our own envelope)
    - object-keyed      ``{"event_type": T, "incident": {...}}``

    Raises ValueError with a precise reason. Call only after the signature is verified.
    """
    try:
        # Strict (no NaN, lone surrogates, runaway nesting), but duplicate keys are not
        # looked for: this is the hot path, and the body is incident.io's, signed.
        payload = decode(body, unique_keys=False)
    except JsonRejected as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    if "event_type" not in payload and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    event_type = payload.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise ValueError("body has no event_type")
    return payload


def object_of(payload: dict[str, Any], kind: EventKind) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the object, the event's other fields) of a delivery of ``kind``."""
    body = payload.get(kind.incoming)
    nested = kind.nested
    if body is None:  # object-keyed or data-wrapped: {"event_type", "incident": {...}, ...}
        body = {k: v for k, v in payload.items() if k != "event_type"}
        nested = kind.key
    if not isinstance(body, dict):
        raise ValueError(f"body has no {kind.key} object for {kind.incoming}")
    if nested is None:
        return body, {}
    found = body.get(nested)
    if not isinstance(found, dict):
        raise ValueError(f"body has no {kind.key} object for {kind.incoming}")
    return found, {k: v for k, v in body.items() if k != nested}


def _selected(config: Mapping[str, Any], default: tuple[str, ...]) -> list[str]:
    events = config.get("events")
    return list(default) if events is None else list(events)
