"""Token format and hashing.

Tokens carry 256 random bits, so a plain SHA-256 is the right stored form:
there is nothing to brute-force, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets

from service.kit.token68 import is_token68

TOKEN_PREFIX = "fcp_"


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_well_formed(token: str) -> bool:
    """RFC 7235 token68, bounded; anything else in the header is "malformed"."""
    return is_token68(token)


def display_prefix(token: str) -> str:
    return token[:8]
