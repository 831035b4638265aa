"""End to end through the platform endpoints: a chat deploy changes the emulator's
function only after approval (by a second user on Slack; through the signed link page
on DingTalk), and every answer reaches its loopback receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from alibabacloud_fc20230330.client import Client

from service.chatops import delivery
from service.kit.settings import Settings
from tests.chatops import support
from tests.deploys import conftest as deploys
from tests.deploys.conftest import BASE_CONFIG, first_deploy, live
from tests.webhooks.receiver import Receiver

# The deploy tests' live emulator and its account, as fixtures of this module.
emulator, fc, fc_account = deploys.emulator, deploys.fc, deploys.fc_account


@pytest.fixture
def settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return support.fast_settings(database_url, tmp_path, admin_token)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


async def _saved_plan(client: httpx.AsyncClient, **config: Any) -> str:
    response = await client.post(
        "/v1/accounts/local/functions/hello/plan",
        json={"config": {**BASE_CONFIG, **config}, "base_revision": 1, "save": True},
    )
    assert response.status_code == 200, response.text
    plan_id: str = response.json()["id"]
    return plan_id


async def _map(client: httpx.AsyncClient, integration: dict[str, Any], *users: str) -> None:
    for user in users:
        put = await client.put(
            f"/v1/chat-integrations/{integration['id']}/users/{user}", json={"scope": "deploy"}
        )
        assert put.status_code == 201, put.text


async def _slack_answer(response: httpx.Response, receiver: Receiver, seen: int) -> Any:
    """The answer to a command: inline, or (when slow) the next one at response_url."""
    assert response.status_code == 200, response.text
    if response.json().get("text") != "Working on it…":
        return response.json()
    await delivery.pending()
    return receiver.received()[seen].json()


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    for block in message["blocks"]:
        if block["type"] == "actions":
            elements: list[dict[str, Any]] = block["elements"]
            return elements
    raise AssertionError(f"no buttons in {message}")


async def test_slack_deploy_is_applied_after_a_second_users_approval(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    receiver: Receiver,
) -> None:
    await first_deploy(client, "hello")
    slack_app = await support.integration(
        client, name="ops", platform="slack", secret=support.SLACK_SECRET
    )
    await _map(client, slack_app, "U1ALICE", "U2BOB")
    plan_id = await _saved_plan(client, memorySize=1024)

    body = support.slack_command_body(f"deploy hello --plan {plan_id}", receiver.url)
    response = await anonymous.post(
        "/v1/chat/slack/ops/commands", content=body, headers=support.slack_headers(body)
    )
    asked = await _slack_answer(response, receiver, 0)
    approve = next(b for b in _buttons(asked) if b["action_id"] == "fcplane_approve")
    assert approve["confirm"]  # Slack's "are you sure" dialog
    approval_id = approve["value"].removeprefix("approve:")
    assert live(fc, "hello").memory_size == 512
    before = len(receiver.received())

    # The requester's own click: refused, told to them only; the message keeps its buttons.
    own = support.slack_action_body(approval_id, "approve", receiver.url, user="U1ALICE")
    response = await anonymous.post(
        "/v1/chat/slack/ops/interactions", content=own, headers=support.slack_headers(own)
    )
    assert response.status_code == 200
    await delivery.pending()
    refused = receiver.received()[before].json()
    assert refused["replace_original"] is False
    assert refused["response_type"] == "ephemeral"
    assert live(fc, "hello").memory_size == 512

    bob = support.slack_action_body(approval_id, "approve", receiver.url, user="U2BOB")
    response = await anonymous.post(
        "/v1/chat/slack/ops/interactions", content=bob, headers=support.slack_headers(bob)
    )
    assert response.status_code == 200
    await delivery.pending()
    outcome = receiver.received()[before + 1].json()
    assert outcome["replace_original"] is True
    assert not any(b["type"] == "actions" for b in outcome["blocks"])  # buttons gone
    assert live(fc, "hello").memory_size == 1024

    events = (await client.get("/v1/chat-events")).json()["items"]
    assert any(e["user_id"] == "U2BOB" and e["outcome"] == "approved" for e in events)


async def test_dingtalk_deploy_through_the_signed_link_page(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    receiver: Receiver,
) -> None:
    await first_deploy(client, "hello")
    robot = await support.integration(
        client,
        name="ding",
        platform="dingtalk",
        secret=support.DINGTALK_SECRET,
        require_second_approver=False,
    )
    await _map(client, robot, "staff-alice")
    plan_id = await _saved_plan(client, memorySize=1024)

    body = support.dingtalk_body(f"deploy hello --plan {plan_id}", receiver.url)
    response = await anonymous.post(
        "/v1/chat/dingtalk/ding", content=body, headers=support.dingtalk_headers()
    )
    assert response.status_code == 200, response.text
    await delivery.pending()
    card = receiver.received()[0].json()
    assert card["msgtype"] == "actionCard"
    [approve] = [b for b in card["actionCard"]["btns"] if "decision=approve" in b["actionURL"]]
    link = urlsplit(approve["actionURL"])
    assert f"{link.scheme}://{link.netloc}" == support.PUBLIC_URL

    page = await anonymous.get(f"{link.path}?{link.query}")
    assert page.status_code == 200
    assert "<form method='post'>" in page.text
    assert live(fc, "hello").memory_size == 512
    form = {key: values[0] for key, values in parse_qs(link.query).items()}
    confirmed = await anonymous.post(link.path, data=form)
    assert confirmed.status_code == 200, confirmed.text
    assert live(fc, "hello").memory_size == 1024
    await delivery.pending()
    assert len(receiver.received()) == 2  # the outcome also went to the group
