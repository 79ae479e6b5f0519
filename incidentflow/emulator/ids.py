"""Identifiers and timestamps shaped like incident.io's."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime

# Crockford's base32, as used by ULIDs (incident.io ids are ULIDs: 26 characters).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid() -> str:
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_message_id() -> str:
    """Svix-style webhook message id; kept across every retry of one delivery."""
    return "msg_" + secrets.token_urlsafe(18)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 with microseconds and a Z, like 2021-08-17T13:28:57.801578Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> datetime:
    return datetime.now(UTC)
