"""Secrets at rest: encrypted, authenticated, and a wrong key is a clear error."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from incidentflow.crypto import SecretBox
from incidentflow.errors import ConfigurationError


# Named ids: the generated key differs in each process that collects it (xdist workers).
@pytest.mark.parametrize("key", [
    pytest.param(Fernet.generate_key().decode(), id="a generated Fernet key"),
    pytest.param("a memorable passphrase", id="a passphrase"),
])
def test_round_trip_without_the_plaintext_in_the_ciphertext(key: str) -> None:
    box = SecretBox(key)
    token = box.encrypt("whsec_plaintext")
    assert "whsec_plaintext" not in token
    assert box.decrypt(token) == "whsec_plaintext"
    assert box.encrypt("whsec_plaintext") != token  # fresh IV every time


def test_another_key_cannot_decrypt_and_says_why() -> None:
    token = SecretBox("one key").encrypt("value")
    with pytest.raises(ConfigurationError, match="INCIDENTFLOW_SECRET_KEY"):
        SecretBox("another key").decrypt(token)


def test_tampering_is_detected() -> None:
    box = SecretBox("k")
    token = box.encrypt("value")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(ConfigurationError):
        box.decrypt(tampered)


def test_repr_hides_the_key() -> None:
    assert "k3y" not in repr(SecretBox("k3y"))
