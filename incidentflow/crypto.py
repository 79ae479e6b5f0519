"""Encryption of secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

``INCIDENTFLOW_SECRET_KEY`` may be a Fernet key or any passphrase; a passphrase is
stretched into a key so people can set a memorable value without breaking anything.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken

from incidentflow.errors import ConfigurationError

MASK = "••••••"


class SecretBox:
    def __init__(self, key: str):
        self._fernet = Fernet(_as_fernet_key(key))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "cannot decrypt a stored secret: INCIDENTFLOW_SECRET_KEY differs from the "
                "key it was stored with"
            ) from exc

    def reveal(self, encrypted: Mapping[str, str]) -> dict[str, str]:
        """Decrypt each value and mask it in every log line from now on: the one way a
        stored secret (an integration's API key, a signing secret) is opened."""
        from incidentflow.log_setup import register_secret  # logging imports MASK from here

        plain = {name: self.decrypt(token) for name, token in encrypted.items()}
        for value in plain.values():
            register_secret(value)
        return plain

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


def _as_fernet_key(key: str) -> bytes:
    raw = key.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())
