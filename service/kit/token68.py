"""The bearer-token syntax (RFC 7235 token68), bounded: shared by auth and settings."""

from __future__ import annotations

import re

_TOKEN68 = re.compile(r"^[A-Za-z0-9._~+/-]{32,512}=*$")


def is_token68(value: str) -> bool:
    return bool(_TOKEN68.match(value))
