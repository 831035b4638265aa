"""What each format's receiver gets: a JSON event, or a short chat message.

Chat messages say, in a few lines, which function, who, what changed field by
field and where to look (a link to the API resource).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.webhooks import signing
from service.webhooks.schemas import TEST_EVENT, Format

MAX_CHANGES = 15
MAX_VALUE_CHARS = 80
_CHANGE_GROUPS = (
    ("changes", "Changes"),
    ("local_changes", "Local changes"),
    ("remote_changes", "Remote changes"),
    ("conflicts", "Conflicts"),
)
_TITLES = {
    "drift.opened": "Drift detected",
    "drift.resolved": "Drift resolved",
    "deploy.succeeded": "Deploy succeeded",
    "deploy.failed": "Deploy failed",
    "deploy.conflict": "Deploy refused: conflict",
    "job.finished": "Job finished",
    "version.published": "Version published",
    "alias.updated": "Alias updated",
    TEST_EVENT: "Test event from fcplane",
}


@dataclass(frozen=True)
class Event:
    """An outbox event as the renderers need it."""

    uid: str
    type: str
    function: str | None
    account: str | None
    actor: str | None
    link: str | None
    payload: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Secrets:
    """Decrypted for one attempt only; repr never shows them."""

    current: str | None
    previous: str | None = None

    def __repr__(self) -> str:
        return "Secrets(***)"


@dataclass
class Request:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _change_line(change: Any) -> str:
    if not isinstance(change, Mapping):
        return _short(change)
    path = str(change.get("path", "?"))
    if "local" in change and "remote" in change:
        return (
            f"{path}: {_short(change.get('base'))} → {_short(change['local'])} (local) "
            f"vs {_short(change['remote'])} (remote)"
        )
    # A missing side is absent or null (service.functions.diff.Change.as_dict).
    before = next((change[k] for k in ("base", "from", "old") if k in change), None)
    after = next((change[k] for k in ("value", "to", "new") if k in change), None)
    if before is None and after is None:
        return f"{path}: changed"
    if before is None:
        return f"{path}: set to {_short(after)}"
    if after is None:
        return f"{path}: removed (was {_short(before)})"
    return f"{path}: {_short(before)} → {_short(after)}"


def _named(event: Event) -> str | None:
    """The function as ``account/name`` (its name alone when the account is unknown)."""
    if event.function is None:
        return None
    return f"{event.account}/{event.function}" if event.account else event.function


def title(event: Event) -> str:
    name = _TITLES.get(event.type, event.type)
    named = _named(event)
    return f"{name}: {named}" if named else name


def summary_lines(event: Event) -> list[str]:
    """Plain-text lines, format-neutral; renderers add their own markup."""
    payload = event.payload
    lines = [f"Event: {event.type}"]
    if (named := _named(event)) is not None:
        lines.append(f"Function: {named}")
    if event.actor:
        lines.append(f"By: {event.actor}")
    for key in (
        "status",
        "kind",
        "strategy",
        "resolution",
        "revision",
        "from_revision",
        "to_revision",
        "base_revision",
        "head_revision",
    ):
        if key in payload and not isinstance(payload[key], Mapping | list):
            lines.append(f"{key.replace('_', ' ').capitalize()}: {_short(payload[key])}")
    for key in ("message", "error"):
        if isinstance(payload.get(key), str) and payload[key]:
            lines.append(f"{key.capitalize()}: {_short(payload[key])}")
    # job.finished: its headline figures, and a signed report link (kept whole).
    if isinstance(headline := payload.get("headline"), Mapping):
        figures = [
            f"{k.replace('_', ' ')} {_short(v)}" for k, v in headline.items() if v is not None
        ]
        lines.append(f"Headline: {' · '.join(figures)}")
    if isinstance(payload.get("report_url"), str):
        lines.append(f"Report: {payload['report_url']}")
    for key, heading in _CHANGE_GROUPS:
        changes = payload.get(key)
        if isinstance(changes, Sequence) and not isinstance(changes, str) and changes:
            lines.append(f"{heading} ({len(changes)}):")
            lines.extend(f"• {_change_line(c)}" for c in changes[:MAX_CHANGES])
            if len(changes) > MAX_CHANGES:
                lines.append(f"• … and {len(changes) - MAX_CHANGES} more")
    return lines


def standard_body(event: Event) -> dict[str, Any]:
    # `type`, `timestamp` and `data` as Standard Webhooks suggests; fcplane's
    # own fields beside them, so they never shadow a key of the payload.
    return {
        "type": event.type,
        "timestamp": _iso(event.created_at),
        "account": event.account,
        "function": event.function,
        "actor": event.actor,
        "link": event.link,
        "summary": title(event),
        "data": dict(event.payload),
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(event: Event) -> dict[str, Any]:
    head = title(event)
    text = "\n".join(_slack_escape(line) for line in summary_lines(event))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}},
    ]
    if event.link:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{event.link}|View in fcplane>"}],
            }
        )
    # `text` is the notification fallback shown where blocks are not.
    return {"text": f"{head}\n{text}", "blocks": blocks}


def dingtalk_body(event: Event) -> dict[str, Any]:
    head = title(event)
    # DingTalk markdown needs a blank line between paragraphs, list items as "- ".
    lines = [f"#### {head}", ""]
    for line in summary_lines(event):
        lines.append(f"- {line[2:]}" if line.startswith("• ") else line)
        lines.append("")
    if event.link:
        lines.append(f"[View in fcplane]({event.link})")
    return {"msgtype": "markdown", "markdown": {"title": head, "text": "\n".join(lines)}}


def feishu_body(event: Event) -> dict[str, Any]:
    rows: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": line}] for line in summary_lines(event)
    ]
    if event.link:
        rows.append([{"tag": "a", "text": "View in fcplane", "href": event.link}])
    post = {"title": title(event), "content": rows}
    return {"msg_type": "post", "content": {"post": {"zh_cn": post, "en_us": post}}}


def render(fmt: Format, event: Event, secrets: Secrets, now: datetime) -> Request:
    """The signed request for one attempt (the timestamp is the attempt's, not the event's)."""
    seconds = int(now.timestamp())
    headers = {"content-type": "application/json", "user-agent": "fcplane-webhooks/1"}
    if fmt is Format.STANDARD:
        body = _dumps(standard_body(event))
        keys = [s for s in (secrets.current, secrets.previous) if s]
        headers |= {"webhook-id": event.uid, "webhook-timestamp": str(seconds)}
        headers["webhook-signature"] = signing.standard_signature(keys, event.uid, seconds, body)
        return Request(body, headers)
    if fmt is Format.DINGTALK:
        params: dict[str, str] = {}
        if secrets.current:
            millis = int(now.timestamp() * 1000)
            sign = signing.dingtalk_sign(secrets.current, millis)
            params = {"timestamp": str(millis), "sign": sign}
        return Request(_dumps(dingtalk_body(event)), headers, params)
    if fmt is Format.FEISHU:
        message = feishu_body(event)
        if secrets.current:
            message = {
                "timestamp": str(seconds),
                "sign": signing.feishu_sign(secrets.current, seconds),
                **message,
            }
        return Request(_dumps(message), headers)
    return Request(_dumps(slack_body(event)), headers)
