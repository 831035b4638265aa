"""Plain-text pieces of replies: values, times, a plan's change table.

Replies stay platform-neutral (a :class:`Reply` with rows and text); each platform
renders them in its own format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# A chat message is read, not scrolled: long tables are cut with a note.
MAX_ROWS = 25
_MAX_VALUE = 60


def value(shown: Any) -> str:
    if shown is None:
        return "-"
    text = shown if isinstance(shown, str) else json.dumps(shown, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def field_path(path: str) -> str:
    return path.lstrip("/").replace("/", ".") or "(whole resource)"


def change_table(plan: Mapping[str, Any]) -> list[list[str]] | None:
    """A function plan's changes: one row per field, which side changed it, and how."""
    rows: list[list[str]] = []
    conflicted = {c.get("path") for c in plan.get("conflicts") or []}
    for side, key in (("local", "local_changes"), ("remote", "remote_changes")):
        for change in plan.get(key) or []:
            path = str(change.get("path", ""))
            mark = f"{side} (conflict)" if path in conflicted else side
            rows.append(
                [mark, field_path(path), value(change.get("base")), value(change.get("value"))]
            )
    return _table(["change", "field", "from", "to"], rows)


def resource_table(plan: Mapping[str, Any]) -> list[list[str]] | None:
    """A project plan's resources: what happens to each."""
    rows = [
        [
            str(r.get("resource")),
            str(r.get("state")),
            str(r.get("function") or "-"),
            "stale" if r.get("stale") else "",
        ]
        for r in plan.get("resources") or []
    ]
    return _table(["resource", "state", "function", ""], rows)


def _table(header: list[str], rows: Iterable[list[str]]) -> list[list[str]] | None:
    body = list(rows)
    if not body:
        return None
    if len(body) > MAX_ROWS:
        hidden = len(body) - MAX_ROWS
        body = [*body[:MAX_ROWS], [f"… {hidden} more", "", "", ""][: len(header)]]
    return [header, *body]


def clipped(text: str, limit: int = 2500) -> str:
    """Plan texts can be long; chat messages cannot."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
