"""The core ``webhook`` trigger, as a pure function from request to verdict: each
verification mode accepts what it should and refuses the rest with a precise code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incidentflow.components.base import RejectionCode, WebhookRequest, WebhookVerdict
from incidentflow.components.standard_webhooks import sign
from incidentflow.components.webhook import Webhook
from incidentflow.registry import default_registry

NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
TRIGGER = Webhook()
WHSEC = "whsec_" + base64.b64encode(b"k" * 24).decode()
SHARED = "s3cr3t-shared-with-the-sender"
BODY = json.dumps({"status": "firing", "service": "checkout"}).encode()
HMAC_CONFIG = {"verification": "hmacSha256", "signatureHeader": "X-Signature-256"}
BEARER_CONFIG = {"verification": "bearer"}


def receive(headers: dict[str, str], body: bytes = BODY, config: dict[str, Any] | None = None,
            secrets: tuple[str, ...] | None = None) -> WebhookVerdict:
    config = config if config is not None else {"verification": "standardWebhooks"}
    if secrets is None:
        secrets = (WHSEC,) if config.get("verification") == "standardWebhooks" else (SHARED,)
    request = WebhookRequest({k.lower(): v for k, v in headers.items()}, body)
    return TRIGGER.receive(request, list(secrets), config, NOW)


def standard(body: bytes = BODY, msg_id: str = "msg_1", at: datetime = NOW) -> dict[str, str]:
    stamp = int(at.timestamp())
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(stamp), "webhook-signature": sign(WHSEC, msg_id, stamp, body)}


def hmac_of(body: bytes, secret: str = SHARED) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def assert_refused(verdict: WebhookVerdict, code: RejectionCode, status: int = 403) -> None:
    assert (verdict.status, verdict.code, verdict.events) == (status, code, ())
    if status == 403:
        assert verdict.public == "forbidden"  # docs/design-rules.md, "Generic answers"


# -- Standard Webhooks ---------------------------------------------------------------------

def test_a_standard_webhooks_delivery_emits_its_body_and_allow_listed_headers() -> None:
    headers = {**standard(), "user-agent": "alertmanager", "x-other": "dropped"}
    verdict = receive(headers)
    assert verdict.accepted and verdict.dedupe_key == "msg_1"
    [event] = verdict.events
    assert event.type == "webhook.received"
    assert event.data == {"headers": {"content-type": "application/json",
                                      "user-agent": "alertmanager"},
                          "body": {"status": "firing", "service": "checkout"}}


def test_standard_webhooks_refuses_a_wrong_signature() -> None:
    assert_refused(receive(standard(), body=BODY + b" "), RejectionCode.BAD_SIGNATURE)


def test_standard_webhooks_refuses_missing_headers() -> None:
    headers = {k: v for k, v in standard().items() if k != "webhook-signature"}
    assert_refused(receive(headers), RejectionCode.MISSING_HEADERS)


def test_standard_webhooks_refuses_a_stale_timestamp() -> None:
    old = standard(at=NOW - timedelta(minutes=6))
    assert_refused(receive(old), RejectionCode.STALE_TIMESTAMP)


# -- HMAC-SHA256 of the body ----------------------------------------------------------------

@pytest.mark.parametrize("encode", [
    lambda digest: digest.hex(),
    lambda digest: digest.hex().upper(),
    lambda digest: "sha256=" + digest.hex(),
    lambda digest: base64.b64encode(digest).decode(),
    lambda digest: "sha256=" + base64.b64encode(digest).decode(),
], ids=["hex", "HEX", "sha256=hex", "base64", "sha256=base64"])
def test_hmac_accepts_hex_or_base64_with_an_optional_prefix(encode: Any) -> None:
    headers = {"content-type": "application/json", "x-signature-256": encode(hmac_of(BODY))}
    verdict = receive(headers, config=HMAC_CONFIG)
    assert verdict.accepted and verdict.events[0].data["body"]["service"] == "checkout"


def test_hmac_refuses_a_signature_made_with_another_secret() -> None:
    headers = {"x-signature-256": hmac_of(BODY, "another-secret-of-16+").hex()}
    assert_refused(receive(headers, config=HMAC_CONFIG), RejectionCode.BAD_SIGNATURE)


def test_hmac_refuses_a_signature_of_another_body() -> None:
    headers = {"x-signature-256": hmac_of(b'{"status": "resolved"}').hex()}
    assert_refused(receive(headers, config=HMAC_CONFIG), RejectionCode.BAD_SIGNATURE)


def test_hmac_refuses_a_missing_signature_header() -> None:
    headers = {"x-other-signature": hmac_of(BODY).hex()}
    assert_refused(receive(headers, config=HMAC_CONFIG), RejectionCode.MISSING_HEADERS)


def test_hmac_accepts_the_previous_secret_during_its_grace() -> None:
    headers = {"x-signature-256": hmac_of(BODY, "the-previous-secret!").hex()}
    verdict = receive(headers, config=HMAC_CONFIG, secrets=(SHARED, "the-previous-secret!"))
    assert verdict.accepted


# -- bearer -------------------------------------------------------------------------------

def test_bearer_accepts_the_secret() -> None:
    verdict = receive({"authorization": f"Bearer {SHARED}"}, config=BEARER_CONFIG)
    assert verdict.accepted
    assert "authorization" not in verdict.events[0].data["headers"]  # never kept


@pytest.mark.parametrize("authorization",
                         [f"Bearer {SHARED}x", "Bearer wrong", f"bearer {SHARED[:-1]}"])
def test_bearer_refuses_another_secret(authorization: str) -> None:
    verdict = receive({"authorization": authorization}, config=BEARER_CONFIG)
    assert_refused(verdict, RejectionCode.BAD_SIGNATURE)


@pytest.mark.parametrize("headers", [{}, {"authorization": f"Basic {SHARED}"},
                                     {"authorization": "Bearer "}])
def test_bearer_refuses_a_missing_authorization(headers: dict[str, str]) -> None:
    assert_refused(receive(headers, config=BEARER_CONFIG), RejectionCode.MISSING_HEADERS)


# -- whatever the mode ----------------------------------------------------------------------

def test_no_secret_refuses_everything() -> None:
    verdict = receive({"authorization": f"Bearer {SHARED}"}, config=BEARER_CONFIG, secrets=())
    assert (verdict.status, verdict.code) == (403, RejectionCode.NO_SECRET)


def test_malformed_json_is_a_clear_400() -> None:
    verdict = receive({"authorization": f"Bearer {SHARED}"}, body=b'{"status": ',
                      config=BEARER_CONFIG)
    assert (verdict.status, verdict.public, verdict.code) == (400, "bad request",
                                                              RejectionCode.MALFORMED_BODY)
    assert "not JSON" in verdict.reason


def test_a_body_that_is_not_json_by_content_type_is_415_after_verification() -> None:
    headers = {"authorization": f"Bearer {SHARED}", "content-type": "text/plain"}
    assert receive(headers, config=BEARER_CONFIG).code is RejectionCode.UNSUPPORTED_MEDIA_TYPE
    stranger = {"authorization": "Bearer nope", "content-type": "text/plain"}
    assert receive(stranger, config=BEARER_CONFIG).status == 403  # learns nothing more


def test_any_json_value_is_a_body() -> None:
    verdict = receive({"authorization": f"Bearer {SHARED}"}, body=b"[1, 2]", config=BEARER_CONFIG)
    assert verdict.events[0].data["body"] == [1, 2]


# -- dedupe keys ----------------------------------------------------------------------------

def test_without_an_idempotency_header_the_same_body_is_the_same_delivery() -> None:
    auth = {"authorization": f"Bearer {SHARED}"}
    first, again = receive(auth, config=BEARER_CONFIG), receive(auth, config=BEARER_CONFIG)
    other = receive(auth, body=b'{"status": "resolved"}', config=BEARER_CONFIG)
    assert first.dedupe_key == again.dedupe_key != other.dedupe_key
    assert first.dedupe_key == "body-sha256:" + hashlib.sha256(BODY).hexdigest()


def test_an_idempotency_header_names_the_delivery_and_is_kept() -> None:
    config = {**BEARER_CONFIG, "idempotencyHeader": "X-Delivery"}
    auth = {"authorization": f"Bearer {SHARED}"}
    one = receive({**auth, "x-delivery": "d-1"}, config=config)
    same_body_other_id = receive({**auth, "x-delivery": "d-2"}, config=config)
    assert (one.dedupe_key, same_body_other_id.dedupe_key) == ("d-1", "d-2")
    assert one.events[0].data["headers"]["x-delivery"] == "d-1"
    long = receive({**auth, "x-delivery": "d" * 500}, config=config)
    assert long.dedupe_key is not None and len(long.dedupe_key) <= 200


def test_listed_headers_are_kept_and_credentials_never() -> None:
    config = {**BEARER_CONFIG, "headers": ["X-Source", "Authorization"]}
    headers = {"authorization": f"Bearer {SHARED}", "x-source": "grafana", "cookie": "c=1"}
    kept = receive(headers, config=config).events[0].data["headers"]
    assert kept == {"x-source": "grafana"}


# -- configuration and secrets ------------------------------------------------------------

def test_hmac_needs_its_signature_header() -> None:
    [problem] = TRIGGER.check("Hook", {"verification": "hmacSha256"})
    assert (problem.node, problem.field) == ("Hook", "signatureHeader")


def test_credential_headers_cannot_be_listed() -> None:
    [problem] = TRIGGER.check("Hook", {"headers": ["x-ok", "Authorization"]})
    assert problem.field == "headers[1]"


@pytest.mark.parametrize("config, secret, usable", [
    ({}, WHSEC, True),
    ({}, SHARED, False),  # Standard Webhooks needs whsec_
    (BEARER_CONFIG, SHARED, True),
    (HMAC_CONFIG, SHARED, True),
    (BEARER_CONFIG, "short", False),
    (BEARER_CONFIG, "has a space in it, 16+", False),
])
def test_the_secret_must_fit_the_verification(config: dict, secret: str, usable: bool) -> None:
    assert (TRIGGER.secret_problem(secret, config) is None) is usable


def test_it_is_in_the_catalogue_with_described_fields() -> None:
    component = default_registry().component("webhook")
    assert isinstance(component, Webhook)
    assert all(field.description for field in component.fields)
