"""Properties of the Standard Webhooks verifier that ``tests/integrations`` leaves out:
a tampered *signature* or a wrong secret always fails, and junk headers or bodies
raise ``SignatureError`` and nothing else.
(Body / id / timestamp tampering: tests/integrations/test_incidentio_signature.py;
junk canvases -> CanvasError only: tests/canvas/test_canvas_properties.py.)
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidentflow.integrations.incidentio.signature import SignatureError, sign, verify

SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()
OTHER = "whsec_" + base64.b64encode(b"j" * 24).decode()
NOW = 1_700_000_000
ids = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=30)


def headers(msg_id: str, timestamp: str, signature: str) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@given(msg_id=ids, body=st.binary(max_size=200), position=st.integers(0, 43),
       bit=st.integers(0, 5))
def test_any_change_to_the_signature_fails(msg_id: str, body: bytes, position: int,
                                           bit: int) -> None:
    signature = sign(SECRET, msg_id, NOW, body)
    digest = signature.removeprefix("v1,")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    index = position % (len(digest) - 1)  # the last char is "=" padding
    char = digest[index]
    flipped = alphabet[alphabet.index(char) ^ (1 << bit)]
    tampered = digest[:index] + flipped + digest[index + 1:]
    if tampered == digest:
        return
    with pytest.raises(SignatureError):
        verify([SECRET], headers(msg_id, str(NOW), "v1," + tampered), body, at(NOW))


@given(msg_id=ids, body=st.binary(max_size=200))
def test_a_signature_made_with_another_secret_fails(msg_id: str, body: bytes) -> None:
    signature = sign(OTHER, msg_id, NOW, body)
    with pytest.raises(SignatureError):
        verify([SECRET], headers(msg_id, str(NOW), signature), body, at(NOW))


@given(header_values=st.dictionaries(
           st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature",
                            "svix-id", "svix-timestamp", "svix-signature", "content-type"]),
           st.text(max_size=80)),
       body=st.binary(max_size=100))
def test_junk_headers_raise_signature_error_only(header_values: dict[str, str],
                                                 body: bytes) -> None:
    with pytest.raises(SignatureError):
        verify([SECRET], header_values, body, at(NOW))
