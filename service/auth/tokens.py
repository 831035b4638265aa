"""Token format and hashing.

Tokens carry 256 random bits, so a plain SHA-256 is the right stored form:
there is nothing to brute-force, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_PREFIX = "fcp_"
# RFC 7235 token68, bounded; anything else in the header is "malformed".
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._~+/-]{32,512}=*$")


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_well_formed(token: str) -> bool:
    return bool(_WELL_FORMED.match(token))


def display_prefix(token: str) -> str:
    return token[:8]
