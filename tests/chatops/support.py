"""Requests signed the way each platform signs them, built from the published
algorithms (not from fcplane's verifiers), and settings for fast reply retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from service.kit.settings import Settings
from tests.conftest import TEST_SECRET_KEY

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DINGTALK_SECRET = "SEC-dingtalk-app-secret-0123456789"
FEISHU_KEY = "feishu-encrypt-key-0123"
FEISHU_TOKEN = "feishu-verification-token"
PUBLIC_URL = "https://fcplane.example.com"

FAST = {
    "webhook_allowed_hosts": ["127.0.0.1"],
    "webhook_timeout_seconds": 1.0,
    "webhook_backoff_base_seconds": 0.05,
    "webhook_backoff_max_seconds": 0.2,
    "public_url": PUBLIC_URL,
}


def fast_settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET_KEY,
        bootstrap_token=admin_token,
        **FAST,  # type: ignore[arg-type]
    )


async def integration(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/chat-integrations", json=fields)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- Slack: v0=HMAC-SHA256(secret, "v0:{ts}:{body}") --------------------------------------


def slack_headers(body: bytes, secret: str = SLACK_SECRET, ts: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if ts is None else ts)
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": f"v0={digest}",
        "content-type": "application/x-www-form-urlencoded",
    }


def slack_command_body(text: str, response_url: str, user: str = "U1ALICE", **extra: str) -> bytes:
    fields = {
        "token": "deprecated",
        "team_id": "T1",
        "channel_id": "C1OPS",
        "channel_name": "ops",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/fcplane",
        "text": text,
        "response_url": response_url,
        "trigger_id": uuid.uuid4().hex,
        **extra,
    }
    return urlencode(fields).encode()


def slack_action_body(
    approval_id: str, decision: str, response_url: str, user: str = "U2BOB"
) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "channel": {"id": "C1OPS"},
        "response_url": response_url,
        "trigger_id": uuid.uuid4().hex,
        "actions": [{"action_id": f"fcplane_{decision}", "value": f"{decision}:{approval_id}"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


# -- DingTalk: sign = base64(HMAC-SHA256(secret, ts + "\n" + secret)) ---------------------


def dingtalk_headers(secret: str = DINGTALK_SECRET, ts_ms: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000) if ts_ms is None else ts_ms)
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return {
        "timestamp": timestamp,
        "sign": base64.b64encode(digest).decode(),
        "content-type": "application/json; charset=utf-8",
    }


def dingtalk_body(text: str, session_webhook: str, user: str = "staff-alice") -> bytes:
    now = int(time.time() * 1000)
    return json.dumps(
        {
            "conversationId": "cid-ops",
            "msgId": "msg" + uuid.uuid4().hex,
            "senderNick": "Alice",
            "senderStaffId": user,
            "senderId": "$:LWCP_v1:$x",
            "conversationType": "2",
            "sessionWebhook": session_webhook,
            "sessionWebhookExpiredTime": now + 5_400_000,
            "createAt": now,
            "isInAtList": True,
            "text": {"content": f" {text}"},
            "msgtype": "text",
        }
    ).encode()


# -- Feishu: AES-256-CBC(key=SHA256(encrypt key)), sha256(ts+nonce+key+body) ---------------


def feishu_encrypt(plain: str, key: str = FEISHU_KEY) -> str:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode()) + padder.finalize()
    aes = Cipher(algorithms.AES(hashlib.sha256(key.encode()).digest()), modes.CBC(iv))
    encryptor = aes.encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode()


def feishu_signed(
    event: dict[str, Any], key: str = FEISHU_KEY, ts: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"encrypt": feishu_encrypt(json.dumps(event), key)}).encode()
    timestamp = str(int(time.time()) if ts is None else ts)
    nonce = uuid.uuid4().hex[:12]
    signature = hashlib.sha256((timestamp + nonce + key).encode() + body).hexdigest()
    headers = {
        "x-lark-request-timestamp": timestamp,
        "x-lark-request-nonce": nonce,
        "x-lark-signature": signature,
        "content-type": "application/json; charset=utf-8",
    }
    return body, headers


def feishu_message_event(
    text: str, user: str = "ou_alice", token: str = FEISHU_TOKEN
) -> dict[str, Any]:
    message_id = "om_" + uuid.uuid4().hex
    return {
        "schema": "2.0",
        "header": {
            "event_id": uuid.uuid4().hex,
            "token": token,
            "create_time": str(int(time.time() * 1000)),
            "event_type": "im.message.receive_v1",
            "tenant_key": "tk",
            "app_id": "cli_test",
        },
        "event": {
            "sender": {"sender_id": {"open_id": user}, "sender_type": "user"},
            "message": {
                "message_id": message_id,
                "chat_id": "oc_ops",
                "chat_type": "group",
                "message_type": "text",
                "content": json.dumps({"text": f"@_user_1 {text}"}),
                "mentions": [{"key": "@_user_1", "name": "fcplane"}],
            },
        },
    }


def feishu_card_event(
    approval_id: str, decision: str, user: str = "ou_bob", token: str = FEISHU_TOKEN
) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "header": {
            "event_id": uuid.uuid4().hex,
            "token": token,
            "event_type": "card.action.trigger",
        },
        "event": {
            "operator": {"open_id": user},
            "token": "c-token",
            "action": {
                "tag": "button",
                "value": {"approval_id": approval_id, "decision": decision},
            },
            "context": {"open_message_id": "om_card", "open_chat_id": "oc_ops"},
        },
    }
