"""The ``webhook`` trigger: any system starts a run by POSTing JSON to the node's own URL.

How a delivery proves where it comes from is the node's choice (``verification``):

- ``standardWebhooks``: ``webhook-id``/``webhook-timestamp``/``webhook-signature`` headers,
  a ``whsec_`` secret, five minutes of tolerance (``standard_webhooks.py``);
- ``hmacSha256``: HMAC-SHA256 of the raw body with the secret, hex or base64, in the
  header named by ``signatureHeader`` (an optional ``sha256=`` prefix is allowed);
- ``bearer``: ``Authorization: Bearer <secret>``.

The secret is set with the trigger's secret hook, never in the canvas, and the previous
one stays valid for a day after a change (docs/design-rules.md, "Secret rotation grace").
A redelivery starts nothing new (docs/design-rules.md, "Deduplicated deliveries"): it is
recognised by ``webhook-id``, by the ``idempotencyHeader`` when one is configured, or
else by a digest of the body (the same body twice is one delivery).

It emits ``webhook.received`` with ``{"headers": {...}, "body": <the JSON>}``; headers
are allow-listed (content-type, user-agent, the idempotency header and those listed in
``headers``), never credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from incidentflow.components.standard_webhooks import SignatureError, verify
from incidentflow.components.standard_webhooks import secret_problem as whsec_problem
from incidentflow.errors import Problem
from incidentflow.events import Event, iso
from incidentflow.jsontext import JsonRejected, decode

RECEIVED = "webhook.received"
STANDARD, HMAC_SHA256, BEARER = "standardWebhooks", "hmacSha256", "bearer"
VERIFICATION, SIGNATURE_HEADER = "verification", "signatureHeader"
IDEMPOTENCY_HEADER, HEADERS = "idempotencyHeader", "headers"
ALWAYS_KEPT = ("content-type", "user-agent")
# Never copied into an event (events are stored and shown): they carry credentials.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
MIN_SECRET_LENGTH = 16
# The store keeps a dedupe key of at most 200 characters; longer ones are digested.
MAX_DEDUPE_KEY = 200


class Webhook(WebhookTrigger):
    type = "webhook"
    label = "Webhook"
    description = "Starts a run when any system POSTs JSON to this node's URL."
    icon = "🪝"
    fields = (
        Field(VERIFICATION, "select", "Verification", required=True, default=STANDARD,
              options=(Option(STANDARD, "Standard Webhooks signature"),
                       Option(HMAC_SHA256, "HMAC-SHA256 of the body in a header"),
                       Option(BEARER, "Bearer secret (Authorization header)")),
              description="How a delivery proves it comes from the sender holding the "
                          "secret set with Set signing secret. Standard Webhooks also "
                          "refuses deliveries signed more than 5 minutes away from now."),
        Field(SIGNATURE_HEADER, "text", "Signature header",
              description="For HMAC-SHA256: the header holding the hex or base64 HMAC of "
                          "the raw body, e.g. X-Hub-Signature-256 (a sha256= prefix is "
                          "allowed)."),
        Field(IDEMPOTENCY_HEADER, "text", "Idempotency header",
              description="For HMAC-SHA256 and bearer: a header whose value identifies a "
                          "delivery, so a redelivery starts nothing new. Left empty, the "
                          "same body received twice counts as one delivery."),
        Field(HEADERS, "multiselect", "Headers to keep",
              description="Names of request headers copied into the event besides "
                          "content-type, user-agent and the idempotency header. "
                          "Authorization and cookies are never copied."),
    )
    hooks = (
        WebhookTrigger.secret_hook(
            "Secret shared with the sender",
            "Standard Webhooks: whsec_ followed by base64. HMAC-SHA256 and bearer: any "
            f"text of at least {MIN_SECRET_LENGTH} characters without spaces, shared with "
            "the sender. Leave empty to clear it."),
    )
    example_output: ClassVar[dict[str, Any] | None] = {
        "type": RECEIVED,
        "timestamp": "2026-01-19T12:00:00Z",
        "data": {
            "headers": {"content-type": "application/json", "user-agent": "alertmanager/0.27"},
            "body": {"status": "firing", "service": "checkout", "severity": "major"},
        },
    }

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        mode = config.get(VERIFICATION, STANDARD)
        header = config.get(SIGNATURE_HEADER)
        if mode == HMAC_SHA256 and not (isinstance(header, str) and header.strip()):
            problems.append(Problem("is required when verification is hmacSha256",
                                    node, SIGNATURE_HEADER))
        listed = config.get(HEADERS) or []
        for index, name in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(name, str) and name.strip().lower() in CREDENTIAL_HEADERS:
                problems.append(Problem(f"{name!r} carries credentials and is never kept",
                                        node, f"{HEADERS}[{index}]"))
        return problems

    def secret_problem(self, secret: str, config: Mapping[str, Any]) -> str | None:
        if config.get(VERIFICATION, STANDARD) == STANDARD:
            return whsec_problem(secret)
        if len(secret) < MIN_SECRET_LENGTH or not secret.isascii() or any(
                c.isspace() or not c.isprintable() for c in secret):
            return (f"must be at least {MIN_SECRET_LENGTH} printable ASCII characters "
                    "without spaces")
        return None

    def receive(
        self,
        request: WebhookRequest,
        secrets: list[str],
        config: Mapping[str, Any],
        now: datetime,
    ) -> WebhookVerdict:
        if not secrets:  # docs/design-rules.md, "Fail closed"
            return WebhookVerdict.rejected(RejectionCode.NO_SECRET, "signing secret not set")
        try:
            dedupe_key = _verified(request, secrets, config, now)
        except SignatureError as exc:
            return WebhookVerdict.rejected(exc.code, str(exc))
        if not request.sends_json:  # only after verification: strangers learn just 403
            return WebhookVerdict.not_json(request)
        try:
            body = decode(request.body)
        except JsonRejected as exc:
            return WebhookVerdict.rejected(RejectionCode.MALFORMED_BODY,
                                           f"body is not JSON: {exc}")
        event = Event(type=RECEIVED, timestamp=iso(now),
                      data={"headers": _kept_headers(request, config), "body": body})
        return WebhookVerdict(200, "ok", "accepted", events=(event,), dedupe_key=dedupe_key)


def _verified(
    request: WebhookRequest, secrets: list[str], config: Mapping[str, Any], now: datetime
) -> str:
    """Check the delivery the node's way; its dedupe key. SignatureError otherwise."""
    mode = config.get(VERIFICATION, STANDARD)
    if mode == STANDARD:
        return verify(secrets, request.headers, request.body, now).msg_id
    if mode == HMAC_SHA256:
        _check_hmac(request, secrets, str(config.get(SIGNATURE_HEADER) or ""))
    elif mode == BEARER:
        _check_bearer(request, secrets)
    else:  # saved under another version of this trigger: refuse rather than guess
        raise SignatureError(f"unknown verification {mode!r}", RejectionCode.OTHER)
    return _dedupe_key(request, config)


def _check_hmac(request: WebhookRequest, secrets: list[str], header: str) -> None:
    given = request.headers.get(header.strip().lower(), "").strip()
    if not given:
        raise SignatureError(f"missing {header} header", RejectionCode.MISSING_HEADERS)
    if given[:7].lower() == "sha256=":
        given = given[7:]
    # Bytes: header text may not be ASCII; compare_digest keeps the timing flat.
    offered = given.encode(errors="replace")
    for secret in secrets:
        digest = hmac.new(secret.encode(), request.body, hashlib.sha256).digest()
        # Hex in either case, or base64 (case matters there).
        for expected, offer in ((digest.hex().encode(), offered.lower()),
                                (base64.b64encode(digest), offered)):
            if hmac.compare_digest(expected, offer):
                return
    raise SignatureError(f"{header} does not match the body's HMAC-SHA256",
                         RejectionCode.BAD_SIGNATURE)


def _check_bearer(request: WebhookRequest, secrets: list[str]) -> None:
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignatureError("missing Authorization: Bearer header",
                             RejectionCode.MISSING_HEADERS)
    offered = token.strip().encode(errors="replace")
    if not any(hmac.compare_digest(secret.encode(), offered) for secret in secrets):
        raise SignatureError("the bearer secret does not match", RejectionCode.BAD_SIGNATURE)


def _dedupe_key(request: WebhookRequest, config: Mapping[str, Any]) -> str:
    """The idempotency header's value when configured and sent, else the body's digest."""
    header = str(config.get(IDEMPOTENCY_HEADER) or "").strip().lower()
    value = request.headers.get(header, "").strip() if header else ""
    if value:
        if len(value) <= MAX_DEDUPE_KEY:
            return value
        return "sha256:" + hashlib.sha256(value.encode(errors="replace")).hexdigest()
    return "body-sha256:" + hashlib.sha256(request.body).hexdigest()


def _kept_headers(request: WebhookRequest, config: Mapping[str, Any]) -> dict[str, str]:
    listed = config.get(HEADERS) or []
    names = [*ALWAYS_KEPT, str(config.get(IDEMPOTENCY_HEADER) or ""),
             *(n for n in listed if isinstance(n, str))]
    kept = {}
    for name in (n.strip().lower() for n in names):
        if name and name not in CREDENTIAL_HEADERS and name in request.headers:
            kept[name] = request.headers[name]
    return kept
