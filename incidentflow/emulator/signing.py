"""Standard Webhooks (Svix) signatures, as incident.io sends them.

Signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``; the key is the secret
base64-decoded after dropping its ``whsec_`` prefix; the header value is
``"v1," + base64(HMAC-SHA256(key, content))``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """Decode a ``whsec_`` secret to its HMAC key; padding is optional, like Svix's."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if not encoded:
        raise ValueError("webhook secret is empty")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not base64 (expected whsec_<base64>)") from exc


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }
