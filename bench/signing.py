"""Standard Webhooks (v1, HMAC-SHA256) signing and checking, stdlib only.

The bench signs its own deliveries so it does not depend on the product's signer
(and so the naive baseline verifies with code the product did not write).
Signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the key is the
base64-decoded secret without its ``whsec_`` prefix.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_key(secret: str) -> bytes:
    encoded = secret.removeprefix("whsec_")
    if not encoded:
        raise ValueError("signing secret is empty")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("signing secret is not base64") from exc


def sign(key: bytes, webhook_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``webhook-signature`` header value for one delivery."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def is_valid(
    key: bytes, webhook_id: str, timestamp: str, signature_header: str, body: bytes, now: float
) -> bool:
    """True when one ``v1`` entry matches and the timestamp is within tolerance."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = sign(key, webhook_id, timestamp, body)
    entries = signature_header.split(" ")
    return any(hmac.compare_digest(entry, expected) for entry in entries if entry.startswith("v1,"))
