"""Approval rules: expiry, who may approve, which channels and integrations count."""

from __future__ import annotations

from datetime import timedelta

import httpx
from alibabacloud_fc20230330.client import Client
from fastapi import FastAPI
from sqlalchemy import update

from service.models import ChatApproval
from service.models.base import utcnow
from tests.chatops.chat_commands import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    approval_of,
    events,
    field,
    open_chat,
)
from tests.deploys.conftest import BASE_CONFIG, first_deploy, live


async def _plan(client: httpx.AsyncClient, **config: object) -> str:
    response = await client.post(
        "/v1/accounts/local/functions/hello/plan",
        json={"config": {**BASE_CONFIG, **config}, "base_revision": 1, "save": True},
    )
    assert response.status_code == 200, response.text
    plan_id: str = response.json()["id"]
    return plan_id


async def test_an_expired_approval_is_refused(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app, approval_ttl_seconds=600)
    asked = await chat.say(f"deploy hello --plan {await _plan(client, memorySize=1024)}")
    approval = approval_of(asked)
    # Valid for the integration's TTL: expires_at is now + 600 s.
    async with chat.state.db.read() as session:
        row = await session.get(ChatApproval, approval)
        assert row is not None
        assert timedelta(seconds=590) < row.expires_at - utcnow() <= timedelta(seconds=600)
    # Ten minutes pass.
    async with chat.state.db.write() as session:
        await session.execute(
            update(ChatApproval)
            .where(ChatApproval.id == approval)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    reply = await chat.click(approval, "approve", BOB)
    assert reply.title == "Approval expired"
    assert live(fc, "hello").memory_size == 512
    assert (await chat.click(approval, "approve", BOB)).title == "Already expired"
    [event] = await events(client, outcome="expired")
    assert event["approval_id"] == approval


async def test_channels_and_default_scope(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app, channels=[CHANNEL], default_scope=None)
    # Unmapped users get nothing at all.
    nothing = await chat.say("status hello", CAROL)
    assert "needs the `read` scope; you have `none`" in nothing.text
    # Commands from another channel are not taken, whoever sends them.
    elsewhere = await chat.say("status hello", ALICE, channel="C0RANDOM")
    assert elsewhere.tone == "error"
    assert "allowed channels" in elsewhere.text
    asked = await chat.say(f"deploy hello --plan {await _plan(client, timeout=5)}")
    approval = approval_of(asked)
    assert "allowed channels" in (await chat.click(approval, "approve", BOB, "C0RANDOM")).text
    # A button pressed on a page (no channel, DingTalk) is judged by the approval's channel.
    done = await chat.click(approval, "approve", BOB, channel=None)
    assert done.tone == "success", done
    refusals = await events(client, kind="refusal")
    assert len(refusals) == 3


async def test_an_approval_belongs_to_its_integration(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    ops = await open_chat(client, app)
    other = await open_chat(client, app, name="other")
    approval = approval_of(await ops.say(f"deploy hello --plan {await _plan(client, timeout=5)}"))
    foreign = await other.click(approval, "approve", BOB)
    assert foreign.title == "No such approval"
    assert live(fc, "hello").timeout == 3
    assert field(await ops.say("status hello", BOB), "head revision") == "1"
