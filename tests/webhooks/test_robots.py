"""Chat robots: each one's message format and signing, checked by the receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.db import Database
from service.models.function import FunctionRef
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import Receiver, Reply, eventually

PLAN = {
    "revision": 8,
    "local_changes": [{"path": "/memorySize", "base": 512, "value": 1024}],
    "conflicts": [{"path": "/timeout", "base": 3, "local": 10, "remote": 20}],
    "access_key_secret": "must-not-leak",
    "event_id": 7,
    "remote_changes": [
        {"path": "/description", "base": None, "value": "new"},
        {"path": "/layers", "base": ["a"], "value": None},
    ],
}


async def _conflict(engine: AsyncEngine) -> None:
    async with Database(engine).write() as session:
        await emit(
            session,
            EventType.DEPLOY_CONFLICT,
            FunctionRef("local", "hello"),
            PLAN,
            actor="alice",
            resource="/v1/deployments/42",
        )


async def test_dingtalk_markdown_signed_in_the_query(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    secret = "SEC0123456789abcdef"
    await subscribe(
        client,
        receiver.url + "?access_token=tok",
        format="dingtalk",
        secret=secret,
        events=["deploy.conflict"],
    )
    receiver.default = Reply(body=b'{"errcode":0,"errmsg":"ok"}')
    await _conflict(engine)
    await eventually(lambda: len(receiver.received()) == 1)
    got = receiver.received()[0]
    assert got.query["access_token"] == ["tok"]
    (timestamp,) = got.query["timestamp"]
    assert abs(int(timestamp) / 1000 - time.time()) < 60  # milliseconds
    # DingTalk's documented recipe: HmacSHA256(key=secret, msg=timestamp+"\n"+secret), base64.
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert got.query["sign"] == [expected]  # parse_qs has URL-decoded it
    body = got.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "Deploy refused: conflict: local/hello"
    text = body["markdown"]["text"]
    for needle in (
        "Function: local/hello",
        "By: alice",
        "Revision: 8",
        "- /memorySize: 512 → 1024",
        "- /timeout: 3 → 10 (local) vs 20 (remote)",
        "- /description: set to new",
        '- /layers: removed (was ["a"])',
        "[View in fcplane](https://fcplane.example.com/v1/deployments/42)",
    ):
        assert needle in text
    assert "must-not-leak" not in got.body.decode()


async def test_dingtalk_error_code_in_a_200_is_retried(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url, format="dingtalk", events=["deploy.conflict"])
    receiver.script.append(Reply(body=b'{"errcode":130101,"errmsg":"send too fast"}'))
    receiver.default = Reply(body=b'{"errcode":0,"errmsg":"ok"}')
    await _conflict(engine)
    await eventually(lambda: len(receiver.received()) == 2)
    assert "sign" not in receiver.received()[0].query  # no secret, no signature
    log = (await client.get(f"/v1/webhooks/{created['id']}/deliveries")).json()["items"]
    assert log[0]["attempt_log"][0]["error"] == "dingtalk errcode 130101: send too fast"


async def test_feishu_post_signed_in_the_body(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    secret = "feishu-robot-secret"
    await subscribe(
        client, receiver.url, format="feishu", secret=secret, events=["deploy.conflict"]
    )
    receiver.default = Reply(body=b'{"code":0,"msg":"success","data":{}}')
    await _conflict(engine)
    await eventually(lambda: len(receiver.received()) == 1)
    body = receiver.received()[0].json()
    timestamp = body["timestamp"]
    assert abs(int(timestamp) - time.time()) < 60  # seconds
    # Feishu's documented recipe: key = timestamp+"\n"+secret, message empty.
    key = f"{timestamp}\n{secret}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "Deploy refused: conflict: local/hello"
    lines = [row[0].get("text") for row in post["content"]]
    assert "By: alice" in lines
    assert "• /memorySize: 512 → 1024" in lines
    assert post["content"][-1] == [
        {
            "tag": "a",
            "text": "View in fcplane",
            "href": "https://fcplane.example.com/v1/deployments/42",
        }
    ]


async def test_slack_blocks_unsigned(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    await subscribe(client, receiver.url, format="slack", events=["deploy.conflict"])
    await _conflict(engine)
    await eventually(lambda: len(receiver.received()) == 1)
    got = receiver.received()[0]
    assert "webhook-signature" not in got.headers
    body = got.json()
    assert body["text"].startswith("Deploy refused: conflict: local/hello\n")
    header, section, context = body["blocks"]
    assert header["text"]["text"] == "Deploy refused: conflict: local/hello"
    assert "/memorySize: 512 → 1024" in section["text"]["text"]
    assert context["elements"][0]["text"] == (
        "<https://fcplane.example.com/v1/deployments/42|View in fcplane>"
    )


async def test_link_and_summary_in_the_standard_payload(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    await subscribe(client, receiver.url, events=["deploy.conflict"])
    await _conflict(engine)
    await eventually(lambda: len(receiver.received()) == 1)
    body = receiver.received()[0].json()
    assert body["type"] == "deploy.conflict"
    assert body["function"] == "hello"
    assert body["account"] == "local"
    assert body["actor"] == "alice"
    assert body["link"] == "https://fcplane.example.com/v1/deployments/42"
    assert body["summary"] == "Deploy refused: conflict: local/hello"
    data = body["data"]
    assert data["access_key_secret"] == "***"
    assert data["conflicts"] == PLAN["conflicts"]
    assert data["event_id"] == 7  # the payload's own keys are never shadowed
    assert urllib.parse.urlsplit(body["link"]).path == "/v1/deployments/42"
