"""DingTalk app robots over HTTP: a callback signed with ``timestamp`` and
``sign = base64(HMAC-SHA256(secret, timestamp + "\\n" + secret))``, answered through
the message's ``sessionWebhook`` with markdown or an ActionCard."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from service.chatops.contract import (
    Button,
    ChatUser,
    CommandRequest,
    Integration,
    Reply,
    ReplyTarget,
)
from service.chatops.platforms import Malformed, Unverified, clip, command_text, loads, table_text
from service.webhooks.signing import dingtalk_sign

WINDOW_MS = 3600 * 1000  # DingTalk: more than an hour away is an illegal request


def signature(secret: str, timestamp: str) -> str:
    """The robot's `sign`: the same formula as fcplane's own signed robot messages."""
    return dingtalk_sign(secret, int(timestamp))


def verify(secret: str, headers: Mapping[str, str], now_ms: float | None = None) -> str:
    """The request's sign (its replay key) when DingTalk signed it; raises Unverified.

    The sign covers the timestamp only, not the body: a captured (timestamp, sign)
    pair would carry any body for an hour. Each sign is therefore taken once
    (receipts), and the legitimate request has already used it.
    """
    timestamp = headers.get("timestamp")
    sign = headers.get("sign")
    if not timestamp or not sign:
        raise Unverified("missing timestamp or sign header")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 15:
        raise Unverified("timestamp is not a Unix time in milliseconds")
    current = time.time() * 1000 if now_ms is None else now_ms
    if abs(current - int(timestamp)) > WINDOW_MS:
        raise Unverified("timestamp is more than an hour away from now")
    if not hmac.compare_digest(signature(secret, timestamp).encode(), sign.encode()):
        raise Unverified("sign does not match the timestamp and the app secret")
    return "dingtalk:" + sign[:100]


def parse(
    body: bytes, integration: Integration, received_at: datetime
) -> tuple[CommandRequest, str]:
    """The command and the message id (a second replay key)."""
    try:
        data = loads(body)
    except ValueError:
        raise Malformed("body", "not JSON") from None
    if not isinstance(data, dict):
        raise Malformed("body", "not a JSON object")
    user_id = data.get("senderStaffId") or data.get("senderId")
    if not isinstance(user_id, str) or not user_id:
        raise Malformed("senderStaffId", "missing")
    message_id = data.get("msgId")
    if not isinstance(message_id, str) or not message_id:
        raise Malformed("msgId", "missing")
    text = data.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    if data.get("msgtype", "text") != "text" or not isinstance(content, str):
        content = "help"  # pictures, files: answer with what fcplane understands
    target = None
    webhook = data.get("sessionWebhook")
    if isinstance(webhook, str) and webhook:
        expiry = data.get("sessionWebhookExpiredTime")
        expires_at = (
            datetime.fromtimestamp(expiry / 1000, UTC) if isinstance(expiry, int | float) else None
        )
        target = ReplyTarget(kind="dingtalk_session_webhook", url=webhook, expires_at=expires_at)
    nick = data.get("senderNick")
    conversation = data.get("conversationId")
    request = CommandRequest(
        integration=integration,
        user=ChatUser(
            platform_user_id=user_id[:128],
            display_name=str(nick)[:100] if nick else None,
            channel_id=str(conversation)[:128] if conversation else None,
        ),
        text=command_text(content),
        reply_to=target,
        received_at=received_at,
    )
    return request, "dingtalk-msg:" + message_id[:100]


# -- rendering -------------------------------------------------------------------------

_TONE = {"info": "💬", "success": "✅", "warning": "⚠️", "error": "❌"}


def _markdown_body(reply: Reply) -> str:
    parts = [f"### {_TONE[reply.tone]} {reply.title}"]
    if reply.text:
        parts.append(reply.text)
    if reply.fields:
        parts.append("\n".join(f"- **{k}**: {v}" for k, v in reply.fields))
    if reply.table:
        # DingTalk markdown has no tables or code blocks that keep spacing; quote lines.
        parts.append("\n".join(f"> `{line}`" for line in table_text(reply.table).splitlines()))
    if reply.links:
        parts.append(" · ".join(f"[{label}]({url})" for label, url in reply.links))
    return clip("\n\n".join(parts), 5000)


def render(reply: Reply, sign_link: Callable[[Button], str]) -> list[dict[str, Any]]:
    """What to post, best first: an ActionCard when there are buttons (each a link to
    the signed approval page), then plain markdown with the same links — whether a
    sessionWebhook accepts ActionCards is not documented, so delivery falls back."""
    title = clip(reply.title, 100)
    text = _markdown_body(reply)
    if not reply.buttons:
        return [{"msgtype": "markdown", "markdown": {"title": title, "text": text}}]
    links = [(button.label, button.url or sign_link(button)) for button in reply.buttons]
    card = {
        "msgtype": "actionCard",
        "actionCard": {
            "title": title,
            "text": text,
            "btnOrientation": "1",
            "btns": [{"title": label, "actionURL": url} for label, url in links],
        },
    }
    fallback = text + "\n\n" + " · ".join(f"[{label}]({url})" for label, url in links)
    return [card, {"msgtype": "markdown", "markdown": {"title": title, "text": fallback}}]
