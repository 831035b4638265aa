"""DingTalk's robot callback with DingTalk's sign; answers to a loopback receiver
standing in for sessionWebhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.chatops import delivery
from service.chatops.approval_page import link_signer
from service.chatops.contract import Button, ChatUser, Reply, ReplyTarget
from service.chatops.integrations import IntegrationService
from service.kit.settings import Settings
from tests.chatops import support
from tests.webhooks.receiver import Receiver
from tests.webhooks.receiver import Reply as ReceiverReply

URL = "/v1/chat/dingtalk/ding"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return support.fast_settings(database_url, tmp_path, admin_token)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def robot(client: httpx.AsyncClient) -> dict[str, Any]:
    return await support.integration(
        client, name="ding", platform="dingtalk", secret=support.DINGTALK_SECRET
    )


async def test_signed_message_is_acknowledged_and_answered_through_session_webhook(
    anonymous: httpx.AsyncClient, robot: dict[str, Any], receiver: Receiver
) -> None:
    body = support.dingtalk_body("@fcplane help", receiver.url)
    response = await anonymous.post(URL, content=body, headers=support.dingtalk_headers())
    assert response.status_code == 200, response.text
    assert response.json() == {}
    await delivery.pending()
    [answer] = receiver.received()
    message = answer.json()
    assert message["msgtype"] in ("markdown", "actionCard")
    assert answer.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("tamper", ["sign", "secret", "stale", "missing", "not-a-number"])
async def test_unverified_callbacks_are_refused_and_not_executed(
    anonymous: httpx.AsyncClient, robot: dict[str, Any], receiver: Receiver, tamper: str
) -> None:
    headers = support.dingtalk_headers()
    if tamper == "sign":
        sign = headers["sign"]
        headers["sign"] = ("B" if sign.startswith("A") else "A") + sign[1:]  # always another
    elif tamper == "secret":
        headers = support.dingtalk_headers(secret="SEC-other")
    elif tamper == "stale":
        headers = support.dingtalk_headers(ts_ms=int(time.time() * 1000) - 3_601_000)
    elif tamper == "missing":
        del headers["sign"]
    else:
        headers["timestamp"] = "yesterday"
    body = support.dingtalk_body("help", receiver.url)
    response = await anonymous.post(URL, content=body, headers=headers)
    assert response.status_code == 401, response.text
    await delivery.pending()
    assert receiver.received() == []


async def test_a_sign_is_taken_once(
    anonymous: httpx.AsyncClient, robot: dict[str, Any], receiver: Receiver
) -> None:
    # The sign covers only the timestamp: a captured pair must not carry another body.
    headers = support.dingtalk_headers()
    first = support.dingtalk_body("help", receiver.url)
    assert (await anonymous.post(URL, content=first, headers=headers)).status_code == 200
    other = support.dingtalk_body("deploy hello", receiver.url)
    replay = await anonymous.post(URL, content=other, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["code"] == "chat_request_replayed"
    await delivery.pending()
    assert len(receiver.received()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"not json", "body"), (b"[1]", "body"), (b'{"msgId": "m1"}', "senderStaffId")],
)
async def test_malformed_bodies_are_4xx(
    anonymous: httpx.AsyncClient, robot: dict[str, Any], body: bytes, field: str
) -> None:
    response = await anonymous.post(URL, content=body, headers=support.dingtalk_headers())
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_expired_session_webhook_is_not_called(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    robot: dict[str, Any],
    receiver: Receiver,
) -> None:
    import json

    data = json.loads(support.dingtalk_body("help", receiver.url))
    data["sessionWebhookExpiredTime"] = int(time.time() * 1000) - 1000
    response = await anonymous.post(
        URL, content=json.dumps(data).encode(), headers=support.dingtalk_headers()
    )
    assert response.status_code == 200
    await delivery.pending()
    assert receiver.received() == []


async def test_a_message_sent_again_with_a_new_sign_is_answered_once(
    anonymous: httpx.AsyncClient, robot: dict[str, Any], receiver: Receiver
) -> None:
    body = support.dingtalk_body("help", receiver.url)
    now = int(time.time() * 1000)
    first = await anonymous.post(URL, content=body, headers=support.dingtalk_headers(ts_ms=now))
    again = await anonymous.post(URL, content=body, headers=support.dingtalk_headers(ts_ms=now - 1))
    assert first.status_code == 200
    assert again.status_code == 200
    await delivery.pending()
    assert len(receiver.received()) == 1


async def test_an_actioncard_the_session_webhook_refuses_falls_back_to_markdown(
    app: FastAPI, robot: dict[str, Any], receiver: Receiver
) -> None:
    state = app.state.fcplane
    loaded = await IntegrationService(state.db, state.secret_box, state.settings).load(
        "dingtalk", "ding"
    )
    refused = b'{"errcode": 300001, "errmsg": "msgtype not supported"}'
    receiver.script.extend([ReceiverReply(body=refused), ReceiverReply(body=refused)])
    reply = Reply(title="Deploy hello?", buttons=[Button("Approve", "approve", "ap-1")])
    target = ReplyTarget(kind="dingtalk_session_webhook", url=receiver.url)
    origin = delivery.Origin(ChatUser("staff-alice", None, None), "deploy hello")
    signer = link_signer(state.settings, 900)
    await delivery.Delivery(state, loaded).send(target, reply, origin, sign_link=signer)
    sent = [r.json() for r in receiver.received()]
    assert [m["msgtype"] for m in sent] == ["actionCard", "actionCard", "markdown"]
    assert "/v1/chat/approvals/ap-1?" in sent[-1]["markdown"]["text"]
