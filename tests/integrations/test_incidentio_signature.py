"""Standard Webhooks verification: every published vector, header variants, tolerance,
and (hypothesis) any tampering with id, timestamp or body fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import standardwebhooks
from hypothesis import given
from hypothesis import strategies as st

from incidentflow.integrations.incidentio.signature import (
    SignatureError,
    decode_secret,
    read_headers,
    sign,
    verify,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "data" / "standard-webhooks-test-vectors.json").read_text()
)
OFFICIAL = VECTORS["official"]
SIGN = OFFICIAL["sign_vector"]
DERIVED = next(v for k, v in VECTORS.items() if k.startswith("derived"))
SIMPLE_DERIVED = [k for k, v in DERIVED.items() if "expected_signature" in v]


def at(timestamp: str | int, offset: float = 0) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC) + timedelta(seconds=offset)


def headers(msg_id: str, timestamp: str, signature: str, prefix: str = "webhook-"):
    return {f"{prefix}id": msg_id, f"{prefix}timestamp": timestamp,
            f"{prefix}signature": signature}


def test_official_sign_vector():
    assert sign(SIGN["secret"], SIGN["webhook-id"], SIGN["webhook-timestamp"],
                SIGN["body"]) == SIGN["expected_signature"]
    assert len(decode_secret(SIGN["secret"])) == SIGN["secret_key_bytes_len"]


def test_official_vector_verifies_with_and_without_prefix():
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], SIGN["expected_signature"])
    now = at(SIGN["webhook-timestamp"])
    for secret in (SIGN["secret"], SIGN["secret"].removeprefix("whsec_")):
        assert verify([secret], hdrs, SIGN["body"].encode(), now).msg_id == SIGN["webhook-id"]


def test_one_character_changed_is_rejected():
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"],
                   OFFICIAL["negative_signature_one_char_changed"])
    with pytest.raises(SignatureError, match="no signature matches"):
        verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


def test_multi_signature_header_with_decoys():
    decoy_v1, decoy_v2 = OFFICIAL["decoy_signatures_used_in_multi_sig_test"]
    header = " ".join([decoy_v1, decoy_v2, SIGN["expected_signature"], decoy_v1])
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], header)
    assert verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


def test_only_v1_entries_count():
    value = SIGN["expected_signature"].removeprefix("v1,")
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], f"v2,{value}")
    with pytest.raises(SignatureError):
        verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


@pytest.mark.parametrize("name", SIMPLE_DERIVED)
def test_derived_vectors_sign_and_verify(name):
    v = DERIVED[name]
    assert sign(v["secret"], v["webhook-id"], v["webhook-timestamp"], v["body"]) == v[
        "expected_signature"
    ]
    hdrs = headers(v["webhook-id"], v["webhook-timestamp"], v["expected_signature"])
    for secret in (v["secret"], "whsec_" + v["secret"].removeprefix("whsec_")):
        verify([secret], hdrs, v["body"].encode(), at(v["webhook-timestamp"]))


def test_body_whitespace_matters():
    v = DERIVED["body_whitespace_sensitivity"]
    hdrs = headers(v["webhook-id"], v["webhook-timestamp"], v["expected_signature"])
    with pytest.raises(SignatureError):
        verify([v["secret"]], hdrs, SIGN["body"].encode(), at(v["webhook-timestamp"]))


def test_rotation_header_accepted_by_either_secret_and_by_the_pair():
    v = DERIVED["rotation_two_secrets"]
    assert sign(v["old_secret"], v["webhook-id"], v["webhook-timestamp"], v["body"]) == v[
        "signature_with_old"
    ]
    assert sign(v["new_secret"], v["webhook-id"], v["webhook-timestamp"], v["body"]) == v[
        "signature_with_new"
    ]
    hdrs = headers(v["webhook-id"], v["webhook-timestamp"],
                   v["webhook-signature_header_during_rotation"])
    now = at(v["webhook-timestamp"])
    for secrets in ([v["old_secret"]], [v["new_secret"]], [v["new_secret"], v["old_secret"]]):
        verify(secrets, hdrs, v["body"].encode(), now)
    # An old signature alone still verifies while the previous secret is kept.
    old_only = headers(v["webhook-id"], v["webhook-timestamp"], v["signature_with_old"])
    verify([v["new_secret"], v["old_secret"]], old_only, v["body"].encode(), now)
    with pytest.raises(SignatureError):
        verify([v["new_secret"]], old_only, v["body"].encode(), now)


def test_svix_header_names_are_accepted():
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], SIGN["expected_signature"],
                   prefix="svix-")
    verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


def test_header_names_are_case_insensitive():
    hdrs = {k.title(): v for k, v in headers(
        SIGN["webhook-id"], SIGN["webhook-timestamp"], SIGN["expected_signature"]).items()}
    assert read_headers(hdrs).msg_id == SIGN["webhook-id"]


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_rejected(missing):
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], SIGN["expected_signature"])
    del hdrs[missing]
    with pytest.raises(SignatureError, match="missing"):
        verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


@pytest.mark.parametrize("offset, ok", [(-300, True), (300, True), (-301, False), (301, False)])
def test_five_minute_tolerance_both_ways(offset, ok):
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], SIGN["expected_signature"])
    # offset is how far "now" is from the timestamp: negative = delivery from the future.
    now = at(SIGN["webhook-timestamp"], -offset)
    if ok:
        verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), now)
    else:
        with pytest.raises(SignatureError, match="too old" if offset < 0 else "too new"):
            verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), now)


def test_non_numeric_timestamp_is_rejected():
    hdrs = headers(SIGN["webhook-id"], "hello", SIGN["expected_signature"])
    with pytest.raises(SignatureError, match="not a unix time"):
        verify([SIGN["secret"]], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


@pytest.mark.parametrize("secret", ["", "whsec_", "   ", "whsec_!!notbase64!!"])
def test_unusable_secrets(secret):
    with pytest.raises(ValueError):
        decode_secret(secret)
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], SIGN["expected_signature"])
    with pytest.raises(SignatureError, match="no usable signing secret"):
        verify([secret], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


def test_a_bad_stored_secret_does_not_block_a_good_one():
    hdrs = headers(SIGN["webhook-id"], SIGN["webhook-timestamp"], SIGN["expected_signature"])
    verify(["whsec_", SIGN["secret"]], hdrs, SIGN["body"].encode(), at(SIGN["webhook-timestamp"]))


# --- properties -----------------------------------------------------------------------

SECRET = SIGN["secret"]
ids = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30)
timestamps = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


@given(msg_id=ids, timestamp=timestamps, body=st.binary(max_size=200))
def test_our_signature_matches_the_reference_library(msg_id, timestamp, body):
    text = body.decode("latin-1")
    when = datetime.fromtimestamp(timestamp, UTC)
    reference = standardwebhooks.Webhook(SECRET).sign(msg_id, when, text)
    assert sign(SECRET, msg_id, timestamp, text) == reference


@given(msg_id=ids, timestamp=timestamps, body=st.binary(max_size=200),
       other_body=st.binary(max_size=200), other_id=ids, shift=st.integers(-300, 300))
def test_any_tampering_fails(msg_id, timestamp, body, other_body, other_id, shift):
    signature = sign(SECRET, msg_id, timestamp, body)
    now = at(timestamp)
    verify([SECRET], headers(msg_id, str(timestamp), signature), body, now)
    tampered = [
        (msg_id, str(timestamp), other_body),
        (other_id, str(timestamp), body),
        (msg_id, str(timestamp + shift), body),
    ]
    for t_id, t_ts, t_body in tampered:
        if (t_id, t_ts, t_body) == (msg_id, str(timestamp), body):
            continue  # hypothesis drew the original value: nothing was tampered
        with pytest.raises(SignatureError):
            verify([SECRET], headers(t_id, t_ts, signature), t_body, now)
