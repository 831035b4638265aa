"""Feishu's event subscription: url_verification (plain and encrypted), encrypted and
signed events, dedup, card callbacks; replies to a loopback Feishu API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.chatops import delivery
from service.kit.settings import Settings
from tests.chatops import support
from tests.webhooks.receiver import Receiver, Reply

URL = "/v1/chat/feishu/lark"
TOKEN_ANSWER = json.dumps(
    {"code": 0, "msg": "ok", "tenant_access_token": "t-123", "expire": 7200}
).encode()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return support.fast_settings(database_url, tmp_path, admin_token)


@pytest.fixture
def feishu_api() -> Iterator[Receiver]:
    server = Receiver()
    server.default = Reply(body=TOKEN_ANSWER, headers={"content-type": "application/json"})
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def app_integration(client: httpx.AsyncClient, feishu_api: Receiver) -> dict[str, Any]:
    return await support.integration(
        client,
        name="lark",
        platform="feishu",
        secret=support.FEISHU_KEY,
        verification_token=support.FEISHU_TOKEN,
        app_id="cli_test",
        app_secret="app-secret",
        api_base_url=f"http://127.0.0.1:{feishu_api.port}",
    )


async def test_plain_url_verification(
    anonymous: httpx.AsyncClient, app_integration: dict[str, Any]
) -> None:
    body = {"challenge": "ajls384kdjx", "token": support.FEISHU_TOKEN, "type": "url_verification"}
    response = await anonymous.post(URL, json=body)
    assert response.status_code == 200
    assert response.json() == {"challenge": "ajls384kdjx"}
    wrong = await anonymous.post(URL, json={**body, "token": "nope"})
    assert wrong.status_code == 401


async def test_encrypted_url_verification(
    anonymous: httpx.AsyncClient, app_integration: dict[str, Any]
) -> None:
    inner = {"challenge": "c-42", "token": support.FEISHU_TOKEN, "type": "url_verification"}
    body = {"encrypt": support.feishu_encrypt(json.dumps(inner))}
    response = await anonymous.post(URL, json=body)
    assert response.status_code == 200
    assert response.json() == {"challenge": "c-42"}


async def test_message_is_answered_once_through_the_reply_api(
    anonymous: httpx.AsyncClient, app_integration: dict[str, Any], feishu_api: Receiver
) -> None:
    event = support.feishu_message_event("help")
    body, headers = support.feishu_signed(event)
    first = await anonymous.post(URL, content=body, headers=headers)
    assert first.status_code == 200, first.text
    # Feishu pushes at least once: the same event again (re-signed) runs nothing.
    body, headers = support.feishu_signed(event)
    again = await anonymous.post(URL, content=body, headers=headers)
    assert again.status_code == 200
    await delivery.pending()
    paths = [r.path for r in feishu_api.received()]
    message_id = event["event"]["message"]["message_id"]
    reply_path = f"/open-apis/im/v1/messages/{message_id}/reply"
    assert paths.count(reply_path) == 1
    [token_call] = [r for r in feishu_api.received() if r.path.endswith("/internal")]
    assert token_call.json() == {"app_id": "cli_test", "app_secret": "app-secret"}
    [reply] = [r for r in feishu_api.received() if r.path == reply_path]
    assert reply.headers["authorization"] == "Bearer t-123"
    sent = reply.json()
    assert sent["msg_type"] == "interactive"
    assert json.loads(sent["content"])["header"]
    assert 0 < len(sent["uuid"]) <= 50


@pytest.mark.parametrize("tamper", ["signature", "key", "stale", "unsigned", "token", "plain"])
async def test_unverified_events_are_refused(
    anonymous: httpx.AsyncClient,
    app_integration: dict[str, Any],
    feishu_api: Receiver,
    tamper: str,
) -> None:
    event = support.feishu_message_event("help")
    body, headers = support.feishu_signed(event)
    if tamper == "signature":
        headers["x-lark-signature"] = "0" * 64
    elif tamper == "key":
        body, headers = support.feishu_signed(event, key="another key")
    elif tamper == "stale":
        body, headers = support.feishu_signed(event, ts=int(time.time()) - 3601)
    elif tamper == "unsigned":
        headers = {"content-type": "application/json"}
    elif tamper == "token":
        body, headers = support.feishu_signed(support.feishu_message_event("help", token="x"))
    else:
        body = json.dumps(event).encode()
    response = await anonymous.post(URL, content=body, headers=headers)
    assert response.status_code == 401, response.text
    await delivery.pending()
    assert feishu_api.received() == []


async def test_card_action_answers_in_the_response(
    anonymous: httpx.AsyncClient, app_integration: dict[str, Any], feishu_api: Receiver
) -> None:
    body, headers = support.feishu_signed(support.feishu_card_event("no-such", "approve"))
    response = await anonymous.post(URL, content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["toast"]["content"]
    assert answer["card"]["type"] == "raw"


@pytest.mark.parametrize(
    ("body", "status"), [(b"not json", 422), (b"[]", 422), (b'{"encrypt": "%%%"}', 401)]
)
async def test_malformed_bodies(
    anonymous: httpx.AsyncClient, app_integration: dict[str, Any], body: bytes, status: int
) -> None:
    response = await anonymous.post(URL, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
