"""Plain-text pieces of replies: values, times, a plan's change table.

Replies stay platform-neutral (a :class:`Reply` with rows and text); each platform
renders them in its own format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from service.chatops.platforms import clip
from service.kit.redact import REDACTED, looks_secret, scrub_keys

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


def _secret_path(path: str) -> bool:
    return any(looks_secret(token) for token in path.split("/"))


def _shown(path: str, changed: Any) -> str:
    """A changed value as a channel may see it: a chat message reaches everyone in the
    channel whatever their scope, so secret-looking fields (DB_PASSWORD) are masked."""
    return value(REDACTED if _secret_path(path) and changed is not None else scrub_keys(changed))


def change_table(plan: Mapping[str, Any]) -> list[list[str]] | None:
    """A function plan's changes: one row per field, which side changed it, and how."""
    rows: list[list[str]] = []
    conflicted = {c.get("path") for c in plan.get("conflicts") or []}
    for side, key in (("local", "local_changes"), ("remote", "remote_changes")):
        for change in plan.get(key) or []:
            path = str(change.get("path", ""))
            mark = f"{side} (conflict)" if path in conflicted else side
            rows.append(
                [
                    mark,
                    field_path(path),
                    _shown(path, change.get("base")),
                    _shown(path, change.get("value")),
                ]
            )
    return _table(["change", "field", "from", "to"], rows)


def plan_text(plan: Mapping[str, Any]) -> str:
    """The plan's text with the values of secret-looking fields masked (as in
    :func:`change_table`). The text shows values as JSON, so each is found quoted."""
    text = str(plan.get("text") or "No changes.")
    for secret in sorted(_secret_strings(plan), key=len, reverse=True):
        text = text.replace(json.dumps(secret, ensure_ascii=False), json.dumps(REDACTED))
    # Plan texts can be long; chat messages cannot.
    return clip(text, 2500)


def _secret_strings(plan: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()

    def collect(item: Any, secret: bool) -> None:
        if isinstance(item, str) and secret:
            found.add(item)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                collect(inner, secret or looks_secret(str(key)))
        elif isinstance(item, list):
            for inner in item:
                collect(inner, secret)

    for key in ("local_changes", "remote_changes", "conflicts"):
        for change in plan.get(key) or []:
            secret = _secret_path(str(change.get("path", "")))
            collect(change.get("base"), secret)
            collect(change.get("value"), secret)
    return found


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
