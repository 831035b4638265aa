"""Each platform's protocol: verify an inbound request, parse it into the contract's
CommandRequest / ActionRequest, and render a Reply in the platform's own format.

Nothing here touches the database or the network; the router and ``delivery`` do.
"""

from __future__ import annotations

import json
import re
from typing import Any

from service.kit.errors import InvalidInput, Unauthenticated


class Unverified(Unauthenticated):
    """The request is not provably from the platform: nothing of it is executed."""

    code, title = "chat_request_unverified", "Chat request not verified"


class Replayed(Unauthenticated):
    """A request already taken (same signature or event id): answered once only."""

    code, title = "chat_request_replayed", "Chat request replayed"


class Malformed(InvalidInput):
    """A verified request whose body lacks what the platform always sends."""

    code, title = "chat_request_malformed", "Chat request malformed"

    def __init__(self, field: str, message: str) -> None:
        error = {"field": field, "location": "body", "message": message, "type": "value_error"}
        super().__init__(f"{field}: {message}", field=field, errors=[error])


def loads(raw: str | bytes) -> Any:
    """JSON from a platform, with every string valid Unicode: JSON may escape a lone
    UTF-16 surrogate (``"\\ud800"``), which no database column, log or reply can
    encode, so a command carrying one would run without its audit record."""
    return _valid_unicode(json.loads(raw))


def _valid_unicode(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_valid_unicode(k): _valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_valid_unicode(v) for v in value]
    return value


_SPACES = re.compile(r"\s+")
_BOT_WORD = re.compile(r"^/?fcplane\b[:,]?\s*", re.IGNORECASE)


def command_text(raw: str) -> str:
    """The command as the command layer reads it: one line of single spaces, without a
    leading ``fcplane`` (people type ``@fcplane fcplane plan x`` or ``/fcplane``)."""
    text = _SPACES.sub(" ", raw).strip()
    return _BOT_WORD.sub("", text).strip()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table_text(rows: list[list[str]]) -> str:
    """A table as aligned monospace lines, header first (for code blocks)."""
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
