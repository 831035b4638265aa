"""Feishu / Lark apps: event subscription (url_verification, AES-256-CBC bodies,
``X-Lark-Signature``), text messages that @ the bot, and card button callbacks;
answered with interactive cards."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from service.chatops.contract import (
    ActionRequest,
    ChatUser,
    CommandRequest,
    Integration,
    Reply,
    ReplyTarget,
)
from service.chatops.platforms import Malformed, Unverified, clip, command_text, loads, table_text

# Feishu documents no tolerance (nor the unit) of X-Lark-Request-Timestamp; seconds
# and milliseconds are both read, and an hour either way is refused. Replays inside
# the hour are caught by event id (receipts).
WINDOW_SECONDS = 3600
_MENTION = re.compile(r"@_user_\d+")


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode()).digest()


def decrypt(encrypt_key: str, encrypted: str) -> str:
    """base64(iv + AES-256-CBC(PKCS7(plain))) with key SHA256(encrypt key)."""
    raw = base64.b64decode(encrypted, validate=True)
    if len(raw) < 32 or len(raw) % 16:
        raise ValueError("wrong length")
    decryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")


def encrypt(encrypt_key: str, plain: str) -> str:
    """The inverse of :func:`decrypt` (tests and the benchmark sign with it)."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def signature(encrypt_key: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


@dataclass(frozen=True)
class Challenge:
    challenge: str


def _check_signature(encrypt_key: str, body: bytes, headers: Mapping[str, str], now: float) -> None:
    timestamp = headers.get("x-lark-request-timestamp", "")
    nonce = headers.get("x-lark-request-nonce", "")
    sent = headers.get("x-lark-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 15:
        raise Unverified("X-Lark-Request-Timestamp is not a Unix time")
    seconds = int(timestamp) / (1000 if len(timestamp) >= 13 else 1)
    if abs(now - seconds) > WINDOW_SECONDS:
        raise Unverified("X-Lark-Request-Timestamp is more than an hour away from now")
    expected = signature(encrypt_key, timestamp, nonce, body)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Unverified("X-Lark-Signature does not match the body and the Encrypt Key")


def _same_token(expected: str | None, sent: object) -> bool:
    return (
        expected is not None
        and isinstance(sent, str)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )


def open_request(
    encrypt_key: str,
    verification_token: str | None,
    body: bytes,
    headers: Mapping[str, str],
    now: float | None = None,
) -> Challenge | dict[str, Any]:
    """A url_verification challenge to answer, or a verified event; raises Unverified.

    Events must come encrypted and signed (the integration always has an Encrypt
    Key): a plain event proves nothing. A url_verification may come unsigned; its
    Verification Token is checked, and answering it executes nothing.
    """
    current = time.time() if now is None else now
    try:
        data = loads(body)
    except ValueError:
        raise Malformed("body", "not JSON") from None
    if not isinstance(data, dict):
        raise Malformed("body", "not a JSON object")
    signed = "x-lark-signature" in headers
    if signed:
        _check_signature(encrypt_key, body, headers, current)
    if "encrypt" in data:
        try:
            data = loads(decrypt(encrypt_key, str(data["encrypt"])))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise Unverified("the body does not decrypt with the Encrypt Key") from None
        if not isinstance(data, dict):
            raise Malformed("encrypt", "does not hold a JSON object")
    if data.get("type") == "url_verification":
        if not _same_token(verification_token, data.get("token")):
            raise Unverified("the Verification Token does not match")
        challenge = data.get("challenge")
        if not isinstance(challenge, str):
            raise Malformed("challenge", "missing")
        return Challenge(challenge)
    if not signed:
        raise Unverified(
            "events must be signed (X-Lark-Signature): set the Encrypt Key in Feishu's console"
        )
    header = data.get("header")
    if not isinstance(header, dict) or data.get("schema") != "2.0":
        raise Malformed("schema", "only schema 2.0 events are handled")
    if not _same_token(verification_token, header.get("token")):
        raise Unverified("the Verification Token does not match")
    return data


def event_type(event: Mapping[str, Any]) -> str:
    return str(event["header"].get("event_type", ""))


def event_id(event: Mapping[str, Any]) -> str:
    found = event["header"].get("event_id")
    if not isinstance(found, str) or not found:
        raise Malformed("header.event_id", "missing")
    return "feishu-event:" + found[:100]


def _dig(data: Any, *path: str) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def parse_message(
    event: Mapping[str, Any], integration: Integration, received_at: datetime
) -> tuple[CommandRequest, str]:
    """A text message (@ mentions removed) and its message id, the replay key Feishu
    recommends for messages."""
    message = _dig(event, "event", "message")
    user_id = _dig(event, "event", "sender", "sender_id", "open_id")
    if not isinstance(message, dict) or not isinstance(message.get("message_id"), str):
        raise Malformed("event.message.message_id", "missing")
    if not isinstance(user_id, str) or not user_id:
        raise Malformed("event.sender.sender_id.open_id", "missing")
    text = "help"
    if message.get("message_type") == "text":
        try:
            content = loads(str(message.get("content", "")))
        except ValueError:
            raise Malformed("event.message.content", "not JSON") from None
        text = str(content.get("text", "")) if isinstance(content, dict) else ""
    message_id = message["message_id"]
    request = CommandRequest(
        integration=integration,
        user=ChatUser(user_id[:128], None, str(message.get("chat_id") or "")[:128] or None),
        # Every @ placeholder goes: the bot's, and any other (commands take none).
        text=command_text(_MENTION.sub("", text)),
        reply_to=ReplyTarget(kind="feishu_message", message_id=message_id),
        received_at=received_at,
    )
    return request, "feishu-msg:" + message_id[:100]


def parse_card_action(
    event: Mapping[str, Any], integration: Integration, received_at: datetime
) -> ActionRequest:
    value = _dig(event, "event", "action", "value")
    if isinstance(value, str):
        try:
            value = loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise Malformed("event.action.value", "not an fcplane approval button")
    approval_id, decision = value.get("approval_id"), value.get("decision")
    if not isinstance(approval_id, str) or decision not in ("approve", "reject"):
        raise Malformed("event.action.value", "not an fcplane approval button")
    user_id = _dig(event, "event", "operator", "open_id")
    if not isinstance(user_id, str) or not user_id:
        raise Malformed("event.operator.open_id", "missing")
    message_id = _dig(event, "event", "context", "open_message_id")
    chat_id = _dig(event, "event", "context", "open_chat_id")
    return ActionRequest(
        integration=integration,
        user=ChatUser(user_id[:128], None, str(chat_id)[:128] if chat_id else None),
        approval_id=approval_id[:36],
        decision="approve" if decision == "approve" else "reject",
        reply_to=ReplyTarget(kind="feishu_message", message_id=str(message_id))
        if message_id
        else None,
        received_at=received_at,
    )


# -- rendering -------------------------------------------------------------------------

_TEMPLATE = {"info": "blue", "success": "green", "warning": "orange", "error": "red"}


def _plain(text: str) -> dict[str, str]:
    return {"tag": "plain_text", "content": text}


def render(reply: Reply) -> dict[str, Any]:
    """An interactive card (message card JSON 1.0)."""
    elements: list[dict[str, Any]] = []
    if reply.text:
        elements.append({"tag": "markdown", "content": clip(reply.text, 5000)})
    if reply.fields:
        fields = [
            {"is_short": True, "text": {"tag": "lark_md", "content": f"**{k}**\n{v}"}}
            for k, v in reply.fields
        ]
        elements.append({"tag": "div", "fields": fields})
    if reply.table:
        elements.append(
            {"tag": "markdown", "content": clip(f"```\n{table_text(reply.table)}\n```", 5000)}
        )
    if reply.buttons:
        actions = []
        for button in reply.buttons:
            action: dict[str, Any] = {
                "tag": "button",
                "text": _plain(clip(button.label, 40)),
                "type": "primary" if button.decision == "approve" else "danger",
                "value": {"approval_id": button.approval_id, "decision": button.decision},
            }
            if button.confirm:
                action["confirm"] = {
                    "title": _plain("Are you sure?"),
                    "text": _plain(clip(button.confirm, 300)),
                }
            actions.append(action)
        elements.append({"tag": "action", "actions": actions})
    if reply.links:
        links = " · ".join(f"[{label}]({url})" for label, url in reply.links)
        elements.append({"tag": "note", "elements": [{"tag": "lark_md", "content": links}]})
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"title": _plain(clip(reply.title, 100)), "template": _TEMPLATE[reply.tone]},
        "elements": elements,
    }


def card_response(reply: Reply) -> dict[str, Any]:
    """A card callback's answer: a toast, and the card replaced by the outcome."""
    toast = "error" if reply.tone == "error" else "success" if reply.tone == "success" else "info"
    return {
        "toast": {"type": toast, "content": clip(reply.title, 100)},
        "card": {"type": "raw", "data": render(reply)},
    }


def refusal_toast(reply: Reply) -> dict[str, Any]:
    """A refused button press: a toast to the presser, the card left as it is."""
    text = f"{reply.title}: {reply.text}" if reply.text else reply.title
    return {"toast": {"type": "error", "content": clip(text, 200)}}


WORKING_TOAST = {"toast": {"type": "info", "content": "Working on it…"}}
