"""incident.io signs its webhooks with Standard Webhooks; the scheme is core (any
webhook trigger may use it) and lives in ``incidentflow.components.standard_webhooks``.
These names stay importable from here for incident.io code and its tests."""

from incidentflow.components.standard_webhooks import (
    HEADER_PREFIXES,
    MAX_TIMESTAMP_DIGITS,
    SECRET_PREFIX,
    TOLERANCE_SECONDS,
    SignatureError,
    SignedHeaders,
    decode_secret,
    read_headers,
    sign,
    verify,
)

__all__ = [
    "HEADER_PREFIXES", "MAX_TIMESTAMP_DIGITS", "SECRET_PREFIX", "TOLERANCE_SECONDS",
    "SignatureError", "SignedHeaders", "decode_secret", "read_headers", "sign", "verify",
]
