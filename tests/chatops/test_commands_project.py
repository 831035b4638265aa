"""plan / deploy / status of an s.yaml project from chat."""

from __future__ import annotations

import httpx
from alibabacloud_fc20230330.client import Client
from fastapi import FastAPI
from Tea.exceptions import TeaException

from tests.chatops.chat_commands import BOB, approval_of, field, open_chat, table_text
from tests.deploys.conftest import live
from tests.projects.conftest import handler_zip, put_project

SYAML = """edition: 3.0.0
name: shop
access: default
resources:
  api:
    component: fc3
    props:
      region: cn-hangzhou
      functionName: shop-api
      runtime: python3.10
      handler: index.handler
      code: ./code
"""


def exists(fc: Client, name: str) -> bool:
    try:
        live(fc, name)
    except TeaException:
        return False
    return True


async def test_project_plan_deploy_after_approval_and_status(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await put_project(client, "shop", SYAML, code={"./code": handler_zip("hi")})
    chat = await open_chat(client, app)

    planned = await chat.say("plan shop")
    assert planned.title == "Plan for project shop"
    assert "api | create | shop-api" in table_text(planned)

    asked = await chat.say("deploy shop")
    approval = approval_of(asked)
    assert asked.title.startswith("Deploy project shop revision 1 to local?")
    assert not exists(fc, "shop-api")

    done = await chat.click(approval, "approve", BOB)
    assert done.tone == "success", done
    assert "api | deployed" in table_text(done)
    assert exists(fc, "shop-api")
    deployment = field(done, "deployment")
    body = (await client.get(f"/v1/projects/shop/deployments/{deployment}")).json()
    assert body["created_by"] == "slack:U0BOB (bob)"

    status = await chat.say("status shop")
    assert status.title == "project shop"
    assert "local | 1" in table_text(status)
    again = await chat.say("deploy shop")
    assert again.title == "Nothing to deploy: project shop"
