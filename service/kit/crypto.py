"""Encryption at rest for credentials (AES-256-GCM under a key from FCPLANE_SECRET_KEY)."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

_VERSION = b"\x01"
_NONCE_BYTES = 12
DEV_KEY_FILE = "secret.key"


class DecryptionError(Exception):
    """Ciphertext does not open under the configured key (wrong key or tampered)."""


class SecretBox:
    """Seals short secrets; ``context`` binds a ciphertext to the field it belongs to."""

    def __init__(self, secret_key: str) -> None:
        # HKDF turns any sufficiently random passphrase into a uniform AES key
        # and lets other purposes derive independent keys from the same secret.
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"fcplane/secretbox/v1"
        ).derive(secret_key.encode())
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(key).hexdigest()[:8]

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str:
        if len(sealed) < 1 + _NONCE_BYTES or sealed[:1] != _VERSION:
            raise DecryptionError("unknown ciphertext format")
        nonce = sealed[1 : 1 + _NONCE_BYTES]
        try:
            plain = self._aead.decrypt(nonce, sealed[1 + _NONCE_BYTES :], context.encode())
        except InvalidTag:
            raise DecryptionError(
                "cannot decrypt a stored secret: FCPLANE_SECRET_KEY differs from the key "
                "it was encrypted with"
            ) from None
        return plain.decode()


def load_or_create_dev_key(data_dir: Path) -> str:
    """Development only: a generated key kept beside the SQLite file (mode 0600)."""
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def configured_key(secret_key: str | None, data_dir: Path) -> str:
    """The configured key, or (development only: Settings refuses production without
    one) the generated key kept in the data directory."""
    if secret_key is not None:
        return secret_key
    log.warning("FCPLANE_SECRET_KEY is not set; using a generated development key in %s", data_dir)
    return load_or_create_dev_key(data_dir)


@functools.lru_cache(maxsize=16)
def purpose_key(secret_key: str | None, data_dir: Path, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose (signed report links, approval links), derived
    from the server key with HKDF so that no purpose ever holds the key itself.

    Cached: signing a link is on request paths, and without FCPLANE_SECRET_KEY the
    development key would otherwise be read from disk every time."""
    secret = secret_key if secret_key is not None else load_or_create_dev_key(data_dir)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )
