"""Signatures, one scheme per format.

- standard: Standard Webhooks v1 — HMAC-SHA256 over `{id}.{timestamp}.{body}`
  keyed with the base64-decoded part of a `whsec_` secret, sent as
  `webhook-signature: v1,<base64>`, several space-separated while an old
  secret is still valid.
- dingtalk: HMAC-SHA256 keyed with the secret over `{timestamp_ms}\\n{secret}`,
  base64, as the `timestamp` and `sign` query parameters.
- feishu: HMAC-SHA256 keyed with `{timestamp_s}\\n{secret}` over an empty
  message, base64, as `timestamp` and `sign` in the JSON body.
- slack: incoming webhooks are not signed; the URL itself is the credential.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
_MIN_KEY_BYTES = 24
_MAX_KEY_BYTES = 64


def generate_standard_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def standard_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"must be {SECRET_PREFIX} followed by base64") from None
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise ValueError(f"must encode {_MIN_KEY_BYTES} to {_MAX_KEY_BYTES} random bytes")
    return key


def standard_signature(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,<sig>` per secret, space-separated."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.digest(standard_key(s), signed, hashlib.sha256)).decode()
        for s in secrets_
    )


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query parameter (before URL-encoding, which the HTTP client does)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.digest(secret.encode(), to_sign, hashlib.sha256)).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """The body's `sign`: the timestamp and secret are the key, the message is empty."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.digest(key, b"", hashlib.sha256)).decode()
