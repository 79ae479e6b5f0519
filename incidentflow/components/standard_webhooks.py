"""Standard Webhooks (Svix) signatures, as incident.io (and many others) send them.

    signed content  = f"{webhook-id}.{webhook-timestamp}.{raw body}"
    key             = base64-decode(secret without "whsec_", padding optional)
    header entry    = "v1," + base64(HMAC-SHA256(key, signed content))
    header          = one or more entries, space-separated (several during rotation)

Why ``hmac`` directly rather than the ``standardwebhooks`` package: its ``verify``
reads the wall clock itself (we need an injected ``now`` so the tolerance decision is
pure and testable), only knows the ``webhook-*`` header names (incident.io's Svix
deliveries may carry ``svix-*``), takes one secret (we keep the previous one valid for
24 hours after a rotation) and does not tell us *why* a delivery failed. The scheme
is twenty lines of stdlib; the tests check it against the package and the published
vectors.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from incidentflow.components.base import RejectionCode

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60
# Unix seconds have 10 digits until the year 2286. A longer "timestamp" is not one, and
# as an int it could not even be compared with the clock (float overflow).
MAX_TIMESTAMP_DIGITS = 12
HEADER_PREFIXES = ("webhook-", "svix-")


class SignatureError(Exception):
    """A delivery failed verification; the message says precisely why (for logs only),
    ``code`` classifies it (for metrics and the delivery log)."""

    def __init__(self, message: str, code: RejectionCode = RejectionCode.BAD_SIGNATURE):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SignedHeaders:
    msg_id: str
    timestamp: str
    signatures: tuple[str, ...]  # the v1 entries only, without the "v1," prefix


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a signing secret. Raises ValueError for an unusable secret."""
    text = secret.strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX) :]
    if not text:
        raise ValueError("signing secret is empty")
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("signing secret is not valid base64 (expected whsec_…)") from None


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is not a Standard Webhooks secret (``whsec_`` then base64 of a
    non-empty key), or None when it is one."""
    problem = "must look like whsec_ followed by base64"
    if not secret.startswith(SECRET_PREFIX) or len(secret) <= len(SECRET_PREFIX):
        return problem
    try:
        text = secret[len(SECRET_PREFIX):]
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return problem
    return None if key else problem


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes | str) -> str:
    """One ``v1,<base64>`` signature entry, as a sender puts it in ``webhook-signature``."""
    raw = body.encode() if isinstance(body, str) else body
    return "v1," + _digest(decode_secret(secret), msg_id, str(timestamp), raw)


def read_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The id, timestamp and v1 signatures, under ``webhook-*`` or ``svix-*`` names."""
    msg_id, timestamp, signature = (headers.get(name) for name in _WEBHOOK_NAMES)
    if msg_id and timestamp and signature:  # as the receiver passes them: lower case
        return SignedHeaders(msg_id, timestamp.strip(), _v1_entries(signature))
    lowered = {k.lower(): v for k, v in headers.items()}
    for prefix in HEADER_PREFIXES:
        values = [lowered.get(prefix + n) for n in ("id", "timestamp", "signature")]
        msg_id, timestamp, signature = values
        if msg_id and timestamp and signature:
            return SignedHeaders(msg_id, timestamp.strip(), _v1_entries(signature))
    raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header",
                         RejectionCode.MISSING_HEADERS)


def verify(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, now: datetime
) -> SignedHeaders:
    """Check a delivery's raw bytes against any of ``secrets``; return its headers.

    Raises :class:`SignatureError` naming the failed check. Run this before parsing the
    body: the signature covers the exact bytes, not the JSON they decode to.
    """
    signed = read_headers(headers)
    _check_timestamp(signed.timestamp, now)
    keys = _keys(secrets)
    for key in keys:
        expected = _digest(key, signed.msg_id, signed.timestamp, body).encode()
        # compare_digest: constant time, so timing does not reveal how much of a forged
        # signature was right. Bytes, because header text may not be ASCII.
        given = [entry.encode(errors="replace") for entry in signed.signatures]
        if any(hmac.compare_digest(expected, entry) for entry in given):
            return signed
    raise SignatureError("no signature matches the signing secret")


_WEBHOOK_NAMES = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)  # not prefix + body: that copies the whole body once more
    return base64.b64encode(mac.digest()).decode()


def _v1_entries(header: str) -> tuple[str, ...]:
    entries = []
    for entry in header.split():
        version, _, value = entry.partition(",")
        if version == "v1" and value:
            entries.append(value)
    return tuple(entries)


def _check_timestamp(timestamp: str, now: datetime) -> None:
    sane = timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS
    if not sane:
        raise SignatureError(f"webhook-timestamp is not a unix time: {timestamp[:40]!r}",
                             RejectionCode.STALE_TIMESTAMP)
    skew = int(timestamp) - now.timestamp()
    if skew < -TOLERANCE_SECONDS:
        raise SignatureError(f"webhook-timestamp too old ({-skew:.0f}s)",
                             RejectionCode.STALE_TIMESTAMP)
    if skew > TOLERANCE_SECONDS:
        raise SignatureError(f"webhook-timestamp too new ({skew:.0f}s in the future)",
                             RejectionCode.STALE_TIMESTAMP)


def _keys(secrets: Iterable[str]) -> list[bytes]:
    keys = []
    for secret in secrets:
        try:
            keys.append(_key_of(secret))
        except ValueError:
            continue  # one bad stored secret must not stop the other from working
    if not keys:
        raise SignatureError("no usable signing secret", RejectionCode.NO_SECRET)
    return keys


@functools.lru_cache(maxsize=256)
def _key_of(secret: str) -> bytes:
    """``decode_secret``, once per secret rather than once per delivery (an unusable
    secret raises every time: exceptions are not cached)."""
    return decode_secret(secret)
