"""Talking to the command layer as a platform endpoint does: ``run_command`` and
``decide`` with a real AppState (the app's lifespan), an integration created through
the admin API and users mapped through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from service.auth.schemas import Scope
from service.chatops.commands import decide, run_command
from service.chatops.contract import (
    ActionRequest,
    ChatUser,
    CommandRequest,
    Decision,
    Integration,
    Reply,
    ReplyTarget,
)
from service.state import AppState

ALICE = ("U0ALICE", "alice")
BOB = ("U0BOB", "bob")
CAROL = ("U0CAROL", "carol")  # never mapped: the integration's default scope
CHANNEL = "C0DEPLOYS"
RESPONSE_URL = "https://hooks.slack.com/commands/T1/1/abc"


@dataclass
class Chat:
    state: AppState
    integration: Integration

    def _user(self, who: tuple[str, str], channel: str | None) -> ChatUser:
        return ChatUser(platform_user_id=who[0], display_name=who[1], channel_id=channel)

    async def say(
        self, text: str, who: tuple[str, str] = ALICE, channel: str | None = CHANNEL
    ) -> Reply:
        request = CommandRequest(
            integration=self.integration,
            user=self._user(who, channel),
            text=text,
            reply_to=ReplyTarget(kind="slack_response_url", url=RESPONSE_URL),
            received_at=datetime.now(UTC),
        )
        return await run_command(self.state, request)

    async def click(
        self,
        approval_id: str,
        decision: Decision = "approve",
        who: tuple[str, str] = BOB,
        channel: str | None = CHANNEL,
    ) -> Reply:
        request = ActionRequest(
            integration=self.integration,
            user=self._user(who, channel),
            approval_id=approval_id,
            decision=decision,
            reply_to=ReplyTarget(kind="slack_response_url", url=RESPONSE_URL),
            received_at=datetime.now(UTC),
        )
        return await decide(self.state, request)


async def open_chat(
    client: httpx.AsyncClient,
    app: FastAPI,
    users: dict[tuple[str, str], str] | None = None,
    **fields: Any,
) -> Chat:
    """A Slack integration (created through the admin API) and its mapped users."""
    body = {
        "name": "ops",
        "platform": "slack",
        "secret": "8f742231b10e8888abcd99yyyzzz85a5",
        "default_scope": "read",
        **fields,
    }
    response = await client.post("/v1/chat-integrations", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    mapping = {ALICE: "deploy", BOB: "deploy"} if users is None else users
    for (user_id, name), scope in mapping.items():
        put = await client.put(
            f"/v1/chat-integrations/{created['id']}/users/{user_id}",
            json={"scope": scope, "display_name": name},
        )
        assert put.status_code in (200, 201), put.text
    integration = Integration(
        id=created["id"],
        name=created["name"],
        platform="slack",
        default_scope=Scope(created["default_scope"]) if created["default_scope"] else None,
        require_second_approver=created["require_second_approver"],
        approval_ttl_seconds=created["approval_ttl_seconds"],
        channels=frozenset(created["channels"]) if created["channels"] is not None else None,
    )
    return Chat(app.state.fcplane, integration)


def approval_of(reply: Reply) -> str:
    """The approval a deploy/rollback reply waits for (its buttons carry it)."""
    assert [b.decision for b in reply.buttons] == ["approve", "reject"], reply
    return reply.buttons[0].approval_id


def field(reply: Reply, name: str) -> str:
    return dict(reply.fields)[name]


def table_text(reply: Reply) -> str:
    return "\n".join(" | ".join(row) for row in reply.table or [])


async def events(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/chat-events", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
