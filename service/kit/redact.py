"""Keeping secrets out of what fcplane shows: by name, and by value."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

REDACTED = "***"
_SECRET_NAME = re.compile(
    r"secret|password|passwd|token|authorization|credential|private|api_?key|access_?key", re.I
)


def looks_secret(name: str) -> bool:
    """A name like ``DB_PASSWORD`` or ``AccessKeySecret``: its value is not shown."""
    return bool(_SECRET_NAME.search(name))


def scrub_keys(value: Any) -> Any:
    """``value`` with every entry under a secret-looking key replaced by ``***``."""
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if looks_secret(str(k)) else scrub_keys(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_keys(v) for v in value]
    return value


def scrub_values(value: Any, secrets: Collection[str]) -> Any:
    """``value`` with every occurrence of one of ``secrets`` in its strings replaced."""
    wanted = [s for s in secrets if s]
    if not wanted:
        return value
    if isinstance(value, str):
        for secret in wanted:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: scrub_values(v, wanted) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_values(v, wanted) for v in value]
    return value
