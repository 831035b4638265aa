"""Slack: slash commands and block actions (signed ``v0=`` over ``v0:{ts}:{body}``),
answered with Block Kit through the HTTP response or ``response_url``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from service.chatops.contract import (
    ActionRequest,
    ChatUser,
    CommandRequest,
    Integration,
    Reply,
    ReplyTarget,
)
from service.chatops.platforms import Malformed, Unverified, clip, command_text, loads, table_text

WINDOW_SECONDS = 5 * 60  # Slack's documented replay window
RESPONSE_URL_LIFETIME = timedelta(minutes=30)  # response_url: 5 uses within 30 minutes
RESPONSE_URL_USES = 5
ACTION_IDS = {"approve": "fcplane_approve", "reject": "fcplane_reject"}
_TONE = {"info": ":information_source:", "success": ":white_check_mark:",
         "warning": ":warning:", "error": ":x:"}  # fmt: skip


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None) -> str:
    """The request's signature (its replay key) when Slack signed it; raises Unverified."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        raise Unverified("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise Unverified("X-Slack-Request-Timestamp is not a Unix time in seconds")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > WINDOW_SECONDS:
        raise Unverified("X-Slack-Request-Timestamp is more than 5 minutes away from now")

    class _At(Clock):
        def now(self) -> float:
            return current

    try:
        valid = SignatureVerifier(secret, clock=_At()).is_valid(body, timestamp, signature)
    except ValueError:  # an empty secret
        valid = False
    if not valid:
        raise Unverified("X-Slack-Signature does not match the body and the signing secret")
    return "slack:" + signature[:120]


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise Malformed("body", "not UTF-8 form data") from None
    return {key: values[0] for key, values in fields.items()}


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise Malformed(name, "missing; Slack sends it with every request")
    return value


def is_ssl_check(body: bytes) -> bool:
    return _form(body).get("ssl_check") == "1"


def _target(url: str | None, received_at: datetime) -> ReplyTarget | None:
    if not url:
        return None
    return ReplyTarget(
        kind="slack_response_url", url=url, expires_at=received_at + RESPONSE_URL_LIFETIME
    )


def parse_command(body: bytes, integration: Integration, received_at: datetime) -> CommandRequest:
    form = _form(body)
    user = ChatUser(
        platform_user_id=_required(form, "user_id"),
        display_name=form.get("user_name") or None,
        channel_id=form.get("channel_id") or None,
    )
    return CommandRequest(
        integration=integration,
        user=user,
        text=command_text(form.get("text", "")),
        reply_to=_target(form.get("response_url"), received_at),
        received_at=received_at,
    )


def parse_action(body: bytes, integration: Integration, received_at: datetime) -> ActionRequest:
    raw = _required(_form(body), "payload")
    try:
        payload = loads(raw)
    except ValueError:
        raise Malformed("payload", "not JSON") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise Malformed("payload.type", "only block_actions (button presses) are handled")
    actions = payload.get("actions")
    user = payload.get("user")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise Malformed("payload.actions", "no action in the payload")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise Malformed("payload.user.id", "missing")
    decision, _, approval_id = str(actions[0].get("value", "")).partition(":")
    if decision not in ("approve", "reject") or not approval_id:
        raise Malformed("payload.actions.0.value", "not an fcplane approval button")
    found = payload.get("channel")
    channel: dict[str, Any] = found if isinstance(found, dict) else {}
    name = user.get("username") or user.get("name")
    return ActionRequest(
        integration=integration,
        user=ChatUser(user["id"], str(name) if name else None, channel.get("id")),
        approval_id=approval_id[:36],
        decision="approve" if decision == "approve" else "reject",
        reply_to=_target(payload.get("response_url"), received_at),
        received_at=received_at,
    )


# -- rendering -------------------------------------------------------------------------


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def render(reply: Reply, *, replace_original: bool | None = None) -> dict[str, Any]:
    """Block Kit message. After a button press, ``replace_original`` True edits the
    message the button was on; False posts a new message (visible to the clicker only
    unless ``reply.in_channel``)."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _text(clip(f"{_TONE[reply.tone]} *{reply.title}*", 3000))}
    ]
    if reply.text:
        blocks.append({"type": "section", "text": _text(clip(reply.text, 3000))})
    if reply.fields:
        fields = [_text(clip(f"*{k}*\n{v}", 2000)) for k, v in reply.fields[:10]]
        blocks.append({"type": "section", "fields": fields})
    if reply.table:
        blocks.append(
            {"type": "section", "text": _text(clip(f"```\n{table_text(reply.table)}\n```", 3000))}
        )
    if reply.links:
        links = " · ".join(f"<{url}|{label}>" for label, url in reply.links)
        blocks.append({"type": "context", "elements": [_text(clip(links, 3000))]})
    if reply.buttons:
        elements = []
        for button in reply.buttons[:5]:
            element: dict[str, Any] = {
                "type": "button",
                "action_id": ACTION_IDS[button.decision],
                "text": {"type": "plain_text", "text": clip(button.label, 75)},
                "value": f"{button.decision}:{button.approval_id}",
                "style": "primary" if button.decision == "approve" else "danger",
            }
            if button.confirm:
                element["confirm"] = {
                    "title": {"type": "plain_text", "text": "Are you sure?"},
                    "text": _text(clip(button.confirm, 300)),
                    "confirm": {"type": "plain_text", "text": clip(button.label, 30)},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                    "style": "primary" if button.decision == "approve" else "danger",
                }
            elements.append(element)
        blocks.append({"type": "actions", "elements": elements})
    message: dict[str, Any] = {
        "response_type": "in_channel" if reply.in_channel else "ephemeral",
        "text": clip(reply.title, 300),
        "blocks": blocks,
    }
    if replace_original:
        # An edit keeps the original's visibility (it cannot change type).
        del message["response_type"]
    if replace_original is not None:
        message["replace_original"] = replace_original
    return message


WORKING = {"response_type": "ephemeral", "text": "Working on it…"}
