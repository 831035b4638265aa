"""Slack's endpoints with requests signed by Slack's algorithm; answers to a loopback
receiver standing in for response_url."""

from __future__ import annotations

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

COMMANDS = "/v1/chat/slack/ops/commands"
INTERACTIONS = "/v1/chat/slack/ops/interactions"


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
async def slack_app(client: httpx.AsyncClient) -> dict[str, Any]:
    return await support.integration(
        client, name="ops", platform="slack", secret=support.SLACK_SECRET
    )


async def _events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/chat-events")
    if response.status_code == 404:  # the command layer's audit list is not there yet
        return []
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_signed_command_is_answered_in_the_response(
    anonymous: httpx.AsyncClient, slack_app: dict[str, Any], receiver: Receiver
) -> None:
    body = support.slack_command_body("help", receiver.url)
    response = await anonymous.post(COMMANDS, content=body, headers=support.slack_headers(body))
    assert response.status_code == 200, response.text
    message = response.json()
    assert message["blocks"]
    assert message["text"]
    await delivery.pending()
    assert receiver.received() == []  # answered inline, response_url unused


@pytest.mark.parametrize(
    "tamper",
    ["signature", "secret", "stale", "future", "missing", "body", "superscript"],
)
async def test_unverified_command_is_refused_and_not_executed(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    slack_app: dict[str, Any],
    receiver: Receiver,
    tamper: str,
) -> None:
    body = support.slack_command_body("help", receiver.url)
    headers = support.slack_headers(body)
    if tamper == "signature":
        signed = headers["x-slack-signature"]
        # Another last digit, always (a signature ending in "00" stayed valid 1 in 256).
        headers["x-slack-signature"] = signed[:-1] + ("1" if signed.endswith("0") else "0")
    elif tamper == "secret":
        headers = support.slack_headers(body, secret="another-secret")
    elif tamper == "stale":
        headers = support.slack_headers(body, ts=int(time.time()) - 301)
    elif tamper == "future":
        headers = support.slack_headers(body, ts=int(time.time()) + 301)
    elif tamper == "missing":
        del headers["x-slack-signature"]
    elif tamper == "superscript":
        # "²".isdigit() is true but int("²") raises: a timestamp that is not ASCII digits.
        headers["x-slack-request-timestamp"] = b"\xb2"  # type: ignore[assignment]
    else:
        body = body.replace(b"text=help", b"text=deploy+hello")
    response = await anonymous.post(COMMANDS, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "chat_request_unverified"
    assert response.headers["content-type"] == "application/problem+json"
    await delivery.pending()
    assert receiver.received() == []
    assert await _events(client) == []


async def test_replayed_command_is_answered_once(
    anonymous: httpx.AsyncClient, slack_app: dict[str, Any], receiver: Receiver
) -> None:
    body = support.slack_command_body("help", receiver.url)
    headers = support.slack_headers(body)
    first = await anonymous.post(COMMANDS, content=body, headers=headers)
    again = await anonymous.post(COMMANDS, content=body, headers=headers)
    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json()["code"] == "chat_request_replayed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"text=help&channel_id=C1", "user_id"),
        (b"user_id=&text=help", "user_id"),
    ],
)
async def test_malformed_signed_form_is_a_helpful_4xx(
    anonymous: httpx.AsyncClient, slack_app: dict[str, Any], body: bytes, field: str
) -> None:
    response = await anonymous.post(COMMANDS, content=body, headers=support.slack_headers(body))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "payload",
    [
        b"payload=not-json",
        b"nothing=here",
        b"payload=%7B%22type%22%3A%22view_submission%22%7D",
        b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%5D%7D",
    ],
)
async def test_malformed_interactions_are_4xx(
    anonymous: httpx.AsyncClient, slack_app: dict[str, Any], payload: bytes
) -> None:
    response = await anonymous.post(
        INTERACTIONS, content=payload, headers=support.slack_headers(payload)
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "chat_request_malformed"


async def test_unknown_and_disabled_integrations(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, slack_app: dict[str, Any]
) -> None:
    body = support.slack_command_body("help", "https://hooks.slack.com/x")
    headers = support.slack_headers(body)
    unknown = await anonymous.post("/v1/chat/slack/nope/commands", content=body, headers=headers)
    assert unknown.status_code == 404
    other_platform = await anonymous.post("/v1/chat/dingtalk/ops", content=body, headers=headers)
    assert other_platform.status_code == 404
    await client.patch(f"/v1/chat-integrations/{slack_app['id']}", json={"enabled": False})
    disabled = await anonymous.post(COMMANDS, content=body, headers=headers)
    assert disabled.status_code == 403
    assert disabled.json()["code"] == "integration_disabled"


async def test_button_press_answers_through_response_url_replacing_the_message(
    anonymous: httpx.AsyncClient, slack_app: dict[str, Any], receiver: Receiver
) -> None:
    body = support.slack_action_body("no-such-approval", "approve", receiver.url)
    response = await anonymous.post(INTERACTIONS, content=body, headers=support.slack_headers(body))
    assert response.status_code == 200, response.text
    await delivery.pending()
    [answer] = receiver.received()
    assert answer.path == "/hook"
    message = answer.json()
    assert message["replace_original"] is True
    assert message["blocks"]


async def test_failed_reply_is_retried_then_recorded(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    slack_app: dict[str, Any],
    receiver: Receiver,
) -> None:
    receiver.default = Reply(status=503)
    body = support.slack_action_body("no-such-approval", "reject", receiver.url)
    response = await anonymous.post(INTERACTIONS, content=body, headers=support.slack_headers(body))
    assert response.status_code == 200
    await delivery.pending()
    assert len(receiver.received()) == 2  # response_url uses are scarce: two attempts
    events = await _events(client)
    if events:  # once the audit list exists, the failure is in it
        failed = [e for e in events if "reply not delivered" in (e.get("detail") or "")]
        assert failed
        assert failed[0]["outcome"] == "failed"
        assert "HTTP 503" in failed[0]["detail"]


async def test_reply_urls_off_slack_are_not_called(
    anonymous: httpx.AsyncClient, slack_app: dict[str, Any], receiver: Receiver
) -> None:
    # 127.0.0.2 is loopback but not in FCPLANE_WEBHOOK_ALLOWED_HOSTS, nor Slack's host.
    url = receiver.url.replace("127.0.0.1", "127.0.0.2")
    body = support.slack_action_body("no-such-approval", "approve", url)
    response = await anonymous.post(INTERACTIONS, content=body, headers=support.slack_headers(body))
    assert response.status_code == 200
    await delivery.pending()
    assert receiver.received() == []


async def test_ssl_check_is_acknowledged_and_runs_nothing(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, slack_app: dict[str, Any]
) -> None:
    body = b"ssl_check=1&token=deprecated&text=deploy+hello&user_id=U1"
    response = await anonymous.post(
        COMMANDS, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200
    assert response.content == b""
    await delivery.pending()
    assert await _events(client) == []
