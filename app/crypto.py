"""Secrets at rest and partner client secrets.

Provider keys and webhook secrets are encrypted with Fernet (``cryptography``) under a key
derived from ``ACCTSYNC_SECRET_KEY`` by HKDF-SHA256, so the database alone reveals nothing.
Partner client secrets are 256-bit random values; they are stored as SHA-256 digests (a slow
password hash buys nothing for a value with that much entropy, as with API tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """Derive ``length`` bytes for ``purpose`` from the service secret key (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=b"acctsync", info=purpose.encode()
    ).derive(secret_key.encode())


class SecretBox:
    """Encrypts and decrypts small secrets (provider API keys, webhook secrets)."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "secrets-at-rest")))

    def encrypt(self, value: str) -> bytes:
        """Encrypt ``value``; the result is safe to store."""
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        """Decrypt a value made by :meth:`encrypt`.

        Raises:
            ValueError: the value was encrypted under another secret key.
        """
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise ValueError("secret was encrypted with another ACCTSYNC_SECRET_KEY") from None


def new_client_secret() -> str:
    """A fresh 256-bit client secret, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    """SHA-256 hex digest of a client secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def verify_client_secret(secret: str, digest: str) -> bool:
    """Constant-time check of ``secret`` against its stored digest."""
    return hmac.compare_digest(hash_client_secret(secret), digest)
