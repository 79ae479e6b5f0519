"""Registering webhook endpoints: from the API, the CLI's ``--webhook URL=whsec_...``."""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import urlsplit

from incidentflow.emulator.signing import SECRET_PREFIX, secret_key
from incidentflow.emulator.state import EmulatorState, WebhookEndpoint


def new_signing_secret() -> str:
    """What incident.io shows as an endpoint's signing secret: whsec_ + base64 key."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(url: Any) -> str:
    if not isinstance(url, str):
        raise ValueError("url must be a string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url must be an absolute http(s) URL, got {url!r}")
    return url


def check_secret(secret: Any) -> str:
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValueError("secret must look like whsec_<base64>")
    secret_key(secret)
    return secret


def register(
    state: EmulatorState,
    url: Any,
    secret: Any = None,
    event_types: Any = (),
) -> WebhookEndpoint:
    """Add an endpoint; a missing secret is generated, as incident.io does."""
    if not isinstance(event_types, list | tuple) or not all(
        isinstance(t, str) for t in event_types
    ):
        raise ValueError("event_types must be a list of event type names")
    endpoint = WebhookEndpoint(
        id="ep_" + secrets.token_urlsafe(9),
        url=check_url(url),
        secret=new_signing_secret() if secret is None else check_secret(secret),
        event_types=tuple(event_types),
    )
    state.endpoints[endpoint.id] = endpoint
    return endpoint


def parse_webhook_flag(value: str) -> tuple[str, str | None]:
    """``URL=whsec_SECRET`` -> (url, secret); a bare URL gets a generated secret.

    Split at ``=whsec_`` because both URLs (query strings) and base64 (padding) may
    contain ``=``.
    """
    url, marker, encoded = value.rpartition("=" + SECRET_PREFIX)
    if not marker:
        return check_url(value), None
    return check_url(url), check_secret(SECRET_PREFIX + encoded)
