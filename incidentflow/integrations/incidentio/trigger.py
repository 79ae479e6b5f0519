"""On Incident: receive incident.io's signed webhooks for incident created/updated.

``integration`` is optional: receiving needs only the node's signing secret (set with
the trigger's secret hook, ``WebhookTrigger.SECRET_HOOK``), never an API key, so a
canvas can listen to incident.io without storing a key. Canvases written for the seed's
system name the ``incident`` integration on this node too; they are accepted, and the
name must then be that of an existing ``incident`` integration (the same check Create
Incident gets).

Only the two public v2 events are selectable (the seed's choice). ``private_incident.*``
deliveries carry nothing but an id, so they are acknowledged (2xx, so incident.io stops
retrying) and start nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from incidentflow.components.base import (
    Field,
    Option,
    RejectionCode,
    WebhookRequest,
    WebhookTrigger,
    WebhookVerdict,
)
from incidentflow.components.standard_webhooks import SignatureError, secret_problem, verify
from incidentflow.errors import Problem
from incidentflow.events import Event, iso
from incidentflow.integrations.incidentio import examples
from incidentflow.jsontext import JsonRejected, decode

CREATED = "public_incident.incident_created_v2"
UPDATED = "public_incident.incident_updated_v2"
# incident.io event type → the type of the event we emit
# (a contract: docs/design-rules.md, "Event shapes").
EMITTED_TYPES = {CREATED: "incident.incident.created", UPDATED: "incident.incident.updated"}
DEFAULT_EVENTS = [CREATED, UPDATED]
OK = "ok"


class OnIncident(WebhookTrigger):
    type = "incident.onIncident"
    label = "On Incident"
    description = "Starts a run when incident.io sends an incident created or updated webhook."
    icon = "🔥"
    integration = "incident"
    integration_optional = True
    listens_for = frozenset({"incident.incident"})  # what Create Incident creates
    fields = (
        Field(
            "events", "multiselect", "Events", required=True, default=list(DEFAULT_EVENTS),
            options=(Option(CREATED, "Incident created"), Option(UPDATED, "Incident updated")),
        ),
        Field(
            WebhookTrigger.SELF_TRIGGER_OPT_IN, "boolean", "Allow self-triggered runs",
            default=False,
            description="Off: an incident this canvas opened itself (Create Incident) "
            "does not start it again; such deliveries are logged as ignored. Turn on "
            "only for a canvas meant to react to its own incidents.",
        ),
    )
    hooks = (
        WebhookTrigger.secret_hook(
            "Signing secret from incident.io",
            "From incident.io Settings > Webhooks (whsec_…). Leave empty to clear it."),
    )
    example_output: ClassVar[dict[str, Any] | None] = examples.load("on-incident")
    emits: ClassVar[tuple[str, ...]] = ("incident.incident.created", "incident.incident.updated")
    example_minimal: ClassVar[dict[str, Any] | None] = examples.load("on-incident-minimal")

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        events = config.get("events", DEFAULT_EVENTS)
        if not isinstance(events, list) or not events:
            return [Problem("select at least one event", node, "events")]
        unknown = [e for e in events if e not in EMITTED_TYPES]
        if unknown:
            return [Problem(f"unknown event type(s): {', '.join(map(str, unknown))}",
                            node, "events")]
        return []

    def secret_problem(self, secret: str, config: Mapping[str, Any]) -> str | None:
        problem = secret_problem(secret)
        return f"{problem} (copy it from incident.io)" if problem else None

    def subject_id(self, event: Event) -> str | None:
        incident = event.data.get("incident") if isinstance(event.data, dict) else None
        found = incident.get("id") if isinstance(incident, dict) else None
        return found if isinstance(found, str) and found else None

    def could_be_self_created(self, event: Event) -> bool:
        """Create Incident calls the API with a key, so incident.io names that key as the
        incident's creator. A creator without one (a person, an alert, a workflow) was
        not us; an unknown or missing creator might be."""
        incident = event.data.get("incident") if isinstance(event.data, dict) else None
        creator = incident.get("creator") if isinstance(incident, dict) else None
        if not isinstance(creator, dict) or not creator:
            return True
        return "api_key" in creator

    def receive(
        self,
        request: WebhookRequest,
        secrets: list[str],
        config: Mapping[str, Any],
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
        # Checked only after the signature, so strangers learn nothing but 403.
        if not request.sends_json:
            content_type = request.headers.get("content-type", "")
            return WebhookVerdict.rejected(RejectionCode.UNSUPPORTED_MEDIA_TYPE,
                                           f"content type {content_type[:100]!r} is not JSON")
        try:
            payload = read_payload(request.body)
            event_type = payload["event_type"]
            if event_type not in _selected(config):
                return WebhookVerdict(200, OK, "event type not selected",
                                      dedupe_key=signed.msg_id)
            incident = incident_of(payload)
        except ValueError as exc:
            return WebhookVerdict.rejected(RejectionCode.MALFORMED_BODY, str(exc),
                                           dedupe_key=signed.msg_id)
        event = Event(
            type=EMITTED_TYPES[event_type],
            data={"event_type": event_type, "incident": incident},
            timestamp=iso(now),
        )
        return WebhookVerdict(200, OK, "accepted", events=(event,), dedupe_key=signed.msg_id)


def read_payload(body: bytes) -> dict[str, Any]:
    """The delivery as ``{"event_type": T, ...}``, whichever of our three shapes it uses:

    - real deliveries   ``{"event_type": T, T: {...}}``
    - data-wrapped      ``{"data": {"event_type": T, "incident": {...}}}`` (our own envelope)
    - incident-keyed    ``{"event_type": T, "incident": {...}}``

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


def incident_of(payload: dict[str, Any]) -> dict[str, Any]:
    event_type = payload["event_type"]
    incident = payload.get(event_type, payload.get("incident"))
    if not isinstance(incident, dict):
        raise ValueError(f"body has no incident object for {event_type}")
    return incident


def _selected(config: Mapping[str, Any]) -> list[str]:
    events = config.get("events")
    return list(DEFAULT_EVENTS) if events is None else list(events)
