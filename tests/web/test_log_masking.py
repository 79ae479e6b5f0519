"""The logging filter masks registered secrets and secret-shaped tokens."""

from __future__ import annotations

import logging

from incidentflow.crypto import MASK
from incidentflow.log_setup import SecretMaskingFilter, mask_secrets, register_secret


def test_registered_values_are_masked() -> None:
    register_secret("pa55-word-xyz")
    assert mask_secrets("key=pa55-word-xyz end") == f"key={MASK} end"


def test_short_values_are_not_registered() -> None:
    register_secret("abc")
    assert mask_secrets("abc") == "abc"


def test_secret_shapes_are_masked_whatever_their_value() -> None:
    text = ("secret whsec_QUJDREVGR0hJSktMTU5PUA== header Bearer tok.en-123 "
            "sig v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= admin ifa_abcdefghijk")
    masked = mask_secrets(text)
    assert "QUJDREVGR0hJSktMTU5PUA" not in masked
    assert "tok.en-123" not in masked and "Bearer " + MASK in masked
    assert "K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN" not in masked
    assert "ifa_abcdefghijk" not in masked


def test_the_filter_rewrites_messages_args_and_tracebacks() -> None:
    register_secret("filter-secret-value")
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "got %s", ("filter-secret-value",),
                               None)
    try:
        raise ValueError("boom filter-secret-value")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert SecretMaskingFilter().filter(record) is True
    assert record.getMessage() == f"got {MASK}"
    assert "filter-secret-value" not in (record.exc_text or "")
    assert "boom" in (record.exc_text or "")
