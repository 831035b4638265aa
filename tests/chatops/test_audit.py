"""GET /v1/chat-events over HTTP: the trail of commands, decisions and refusals."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.chatops.chat_commands import ALICE, BOB, CAROL, CHANNEL, open_chat
from tests.conftest import token_with


async def test_every_command_and_refusal_is_listed_newest_first(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, app: FastAPI
) -> None:
    chat = await open_chat(client, app, users={ALICE: "deploy", BOB: "read"})
    await chat.say("help", ALICE)
    await chat.say("nonsense", BOB)
    await chat.say("deploy hello", CAROL)
    await chat.say("approve 12345678", BOB)

    response = await client.get("/v1/chat-events")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(e["user_id"], e["kind"], e["outcome"]) for e in items] == [
        ("U0BOB", "refusal", "refused"),
        ("U0CAROL", "refusal", "refused"),
        ("U0BOB", "command", "failed"),
        ("U0ALICE", "command", "ok"),
    ]
    newest = items[0]
    assert newest["command"] == "approve 12345678"
    assert newest["platform"] == "slack"
    assert newest["channel"] == CHANNEL
    assert newest["integration_id"] == chat.integration.id
    assert newest["user_name"] == "bob"
    assert "needs the `deploy` scope; you have `read`" in newest["detail"]
    assert items[2]["detail"].startswith("fcplane has no command `nonsense`")

    # Filters, and pages through the one pagination dependency.
    only = (await client.get("/v1/chat-events", params={"user": "U0ALICE"})).json()["items"]
    assert [e["command"] for e in only] == ["help"]
    refusals = (await client.get("/v1/chat-events", params={"kind": "refusal"})).json()
    assert len(refusals["items"]) == 2
    failed = (await client.get("/v1/chat-events", params={"outcome": "failed"})).json()
    assert [e["command"] for e in failed["items"]] == ["nonsense"]
    other = await client.get("/v1/chat-events", params={"integration": chat.integration.id + 1})
    assert other.json()["items"] == []
    first = (await client.get("/v1/chat-events", params={"limit": 3})).json()
    assert len(first["items"]) == 3
    rest = (
        await client.get("/v1/chat-events", params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()
    assert [e["command"] for e in rest["items"]] == ["help"]
    assert rest["next_cursor"] is None


async def test_the_trail_is_for_admins_and_refuses_bad_filters(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    assert (await anonymous.get("/v1/chat-events")).status_code == 401
    token = await token_with(client, "deploy")
    denied = await anonymous.get("/v1/chat-events", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"
    for params in (
        {"outcome": "great"},
        {"kind": "x"},
        {"integration": 0},
        {"cursor": "nope"},
        {"since": "1"},
    ):
        response = await client.get("/v1/chat-events", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
