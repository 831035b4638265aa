"""deploy / rollback from chat: an approval first, applied by a second person, refused
as stale when anything moved, carrying the chat users as the actors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from alibabacloud_fc20230330.client import Client
from fastapi import FastAPI
from sqlalchemy import select

from service.models import WebhookEvent
from tests.chatops.chat_commands import (
    ALICE,
    BOB,
    CAROL,
    approval_of,
    events,
    field,
    open_chat,
    table_text,
)
from tests.deploys.conftest import BASE_CONFIG, first_deploy, live, sdk_update


async def saved_plan(client: httpx.AsyncClient, **config: Any) -> str:
    response = await client.post(
        "/v1/accounts/local/functions/hello/plan",
        json={"config": {**BASE_CONFIG, **config}, "base_revision": 1, "save": True},
    )
    assert response.status_code == 200, response.text
    plan_id: str = response.json()["id"]
    return plan_id


async def test_deploy_waits_for_a_second_person_then_applies(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    plan_id = await saved_plan(client, memorySize=1024)

    asked = await chat.say(f"deploy hello --plan {plan_id}", ALICE)
    approval = approval_of(asked)
    assert asked.title.startswith("Deploy local/hello")
    assert "memorySize" in table_text(asked)
    assert field(asked, "requested by") == "slack:U0ALICE (alice)"
    # Nothing changed yet.
    assert live(fc, "hello").memory_size == 512

    # The requester cannot approve their own change.
    own = await chat.click(approval, "approve", ALICE)
    assert own.tone == "error"
    assert "someone else" in own.text
    assert live(fc, "hello").memory_size == 512

    done = await chat.click(approval, "approve", BOB)
    assert done.tone == "success", done
    assert done.title == "Deployed local/hello: revision 2"
    assert live(fc, "hello").memory_size == 1024
    deployment_id = field(done, "deployment")

    # The chat user is the actor of the deployment and of the revision.
    deployment = (await client.get(f"/v1/deployments/{deployment_id}")).json()
    assert deployment["created_by"] == "slack:U0BOB (bob)"
    revision = (await client.get("/v1/accounts/local/functions/hello/revisions/2")).json()
    assert revision["created_by"] == "slack:U0BOB (bob)"
    # ... and of the webhook event the deploy emitted.
    async with chat.state.db.read() as session:
        event = await session.scalar(
            select(WebhookEvent)
            .where(WebhookEvent.type == "deploy.succeeded")
            .order_by(WebhookEvent.id.desc())
        )
    assert event is not None
    assert event.actor == "slack:U0BOB (bob)"

    # A second click is told who decided, and changes nothing.
    again = await chat.click(approval, "approve", BOB)
    assert again.title == "Already approved by slack:U0BOB (bob)"
    assert deployment_id in again.text

    trail = await events(client, kind="decision")
    assert [e["outcome"] for e in trail][:2] == ["refused", "approved"]
    assert trail[1]["deployment_id"] == deployment_id
    refusals = await events(client, kind="refusal")
    assert refusals[0]["approval_id"] == approval
    assert refusals[0]["user_id"] == "U0ALICE"


async def test_typed_approve_with_an_id_prefix(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    approval = approval_of(
        await chat.say(f"deploy hello --plan {await saved_plan(client, timeout=9)}")
    )
    done = await chat.say(f"approve {approval[:8]}", BOB)
    assert done.tone == "success", done
    assert live(fc, "hello").timeout == 9


async def test_stale_approval_is_refused_and_says_what_moved(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    approval = approval_of(
        await chat.say(f"deploy hello --plan {await saved_plan(client, memorySize=1024)}")
    )

    sdk_update(fc, "hello", timeout=20)  # a console edit between request and approval

    stale = await chat.click(approval, "approve", BOB)
    assert stale.tone == "warning"
    assert stale.title.startswith("Stale")
    assert "live state" in stale.text
    assert "timeout" in table_text(stale)
    assert live(fc, "hello").memory_size == 512
    [event] = await events(client, outcome="stale")
    assert event["approval_id"] == approval
    # Decided once: approving again is answered with what happened.
    assert (await chat.click(approval, "approve", BOB)).title.startswith("Already stale")


async def test_reject_and_withdraw(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    first = approval_of(
        await chat.say(f"deploy hello --plan {await saved_plan(client, timeout=7)}")
    )
    rejected = await chat.click(first, "reject", BOB)
    assert rejected.title == "Rejected by slack:U0BOB (bob)"
    # The requester may withdraw their own request.
    second = approval_of(
        await chat.say(f"deploy hello --plan {await saved_plan(client, timeout=8)}")
    )
    assert (await chat.click(second, "reject", ALICE)).title.startswith("Rejected")
    assert (await chat.click(second, "approve", BOB)).title.startswith("Already rejected")
    assert live(fc, "hello").timeout == 3


async def test_a_read_user_can_neither_ask_nor_approve(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    plan_id = await saved_plan(client, memorySize=1024)
    refused = await chat.say(f"deploy hello --plan {plan_id}", CAROL)
    assert refused.tone == "error"
    assert "needs the `deploy` scope; you have `read`" in refused.text
    approval = approval_of(await chat.say(f"deploy hello --plan {plan_id}", ALICE))
    click = await chat.click(approval, "approve", CAROL)
    assert "needs the `deploy` scope" in click.text
    assert live(fc, "hello").memory_size == 512
    refusals = await events(client, kind="refusal", user="U0CAROL")
    assert len(refusals) == 2
    assert {e["outcome"] for e in refusals} == {"refused"}


async def test_deploy_from_the_head_restores_it_after_approval(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app, require_second_approver=False)
    nothing = await chat.say("deploy hello")
    assert nothing.title == "Nothing to deploy: local/hello", nothing.text
    assert nothing.buttons == []

    sdk_update(fc, "hello", timeout=20)
    refused = await chat.say("deploy hello")
    assert "would be refused" in refused.title
    assert "--strategy use-local" in refused.text

    asked = await chat.say("deploy hello --strategy use-local")
    approval = approval_of(asked)
    assert "timeout" in table_text(asked)
    # The integration does not require a second person here.
    done = await chat.click(approval, "approve", ALICE)
    assert done.tone == "success", done
    assert live(fc, "hello").timeout == 3


async def test_rollback_goes_through_an_approval(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    applied = await chat.click(
        approval_of(
            await chat.say(f"deploy hello --plan {await saved_plan(client, memorySize=1024)}")
        ),
        "approve",
        BOB,
    )
    assert applied.tone == "success"

    asked = await chat.say("rollback hello 1")
    assert "memorySize" in table_text(asked)
    assert live(fc, "hello").memory_size == 1024
    done = await chat.click(approval_of(asked), "approve", BOB)
    assert done.title == "Deployed local/hello: revision 3", done
    assert live(fc, "hello").memory_size == 512
    deployments = (await client.get("/v1/accounts/local/functions/hello/deployments")).json()
    newest = deployments["items"][0]
    assert newest["kind"] == "rollback"
    assert newest["created_by"] == "slack:U0BOB (bob)"


async def test_rollback_is_stale_when_another_deploy_landed(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    await chat.click(
        approval_of(
            await chat.say(f"deploy hello --plan {await saved_plan(client, memorySize=1024)}")
        ),
        "approve",
        BOB,
    )
    approval = approval_of(await chat.say("rollback hello 1"))
    moved = await client.post(
        "/v1/accounts/local/functions/hello/deployments",
        json={"config": {**BASE_CONFIG, "memorySize": 1024, "timeout": 30}, "base_revision": 2},
    )
    assert moved.status_code == 201, moved.text
    stale = await chat.click(approval, "approve", BOB)
    assert stale.title.startswith("Stale"), stale
    assert "revision" in stale.text
    assert live(fc, "hello").timeout == 30


async def test_unknown_function_gets_a_suggestion(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    reply = await chat.say("deploy helo")
    assert reply.tone == "error"
    assert "`hello`" in reply.text
    reply = await chat.say("deploy hello --plan 1234 --strategy merge")
    assert "--strategy does not go with --plan" in reply.text
    reply = await chat.say("rollback hello two")
    assert "give a revision number" in reply.text
    assert "Usage: `rollback <function> <revision>" in reply.text


async def test_two_approvers_at_once_deploy_once(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    dave = ("U0DAVE", "dave")
    chat = await open_chat(client, app, users={ALICE: "deploy", BOB: "deploy", dave: "deploy"})
    asked = await chat.say(f"deploy hello --plan {await saved_plan(client, memorySize=1024)}")
    approval = approval_of(asked)
    first, second = await asyncio.gather(
        chat.click(approval, "approve", BOB), chat.click(approval, "approve", dave)
    )
    titles = sorted([first.title, second.title])
    assert titles[0].startswith("Already approved by slack:U0"), titles
    assert titles[1] == "Deployed local/hello: revision 2", titles
    deployments = (await client.get("/v1/accounts/local/functions/hello/deployments")).json()
    assert len(deployments["items"]) == 2  # the first deploy and exactly one approval
