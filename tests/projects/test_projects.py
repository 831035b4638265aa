"""Projects end to end: the API over HTTP, FC through the official SDK against emulators."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330.client import Client

from tests.deploys.conftest import live, sdk_update
from tests.projects.conftest import deploy, handler_zip, plan, put_project

SHOP = """edition: 3.0.0
name: shop
access: default
vars:
  region: cn-hangzhou
resources:
  backend:
    component: fc3
    props:
      region: ${vars.region}
      functionName: shop-backend
      runtime: python3.10
      handler: index.handler
      memorySize: 512
      code: ./backend
      triggers:
        - triggerName: http
          triggerType: http
          triggerConfig:
            authType: anonymous
            methods: [GET, POST]
  frontend:
    component: fc3
    props:
      region: ${vars.region}
      functionName: shop-frontend
      runtime: python3.10
      handler: index.handler
      timeout: ${vars.timeout}
      code: ./frontend
      environmentVariables:
        STAGE: ${env('STAGE', 'dev')}
        BACKEND_URL: ${resources.backend.output.url.system_url}
"""


def shop(timeout: int = 30) -> str:
    return SHOP.replace("vars:\n", f"vars:\n  timeout: {timeout}\n", 1)


CODE = {"./backend": handler_zip("backend"), "./frontend": handler_zip("frontend")}
ENVIRONMENTS = {"default": "local", "prod": "prod"}


def by_resource(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    key = "resources" if "resources" in body else "results"
    return {r["resource"]: r for r in body[key]}


def trigger_url(fc: Client, name: str) -> str:
    from alibabacloud_fc20230330 import models as fc_models

    triggers = fc.list_triggers(name, fc_models.ListTriggersRequest()).body.triggers
    return str(triggers[0].http_trigger.url_internet)


async def test_tour_two_environments_and_a_console_edit_caught_at_project_level(
    client: httpx.AsyncClient, fc_account: str, prod_account: str, fc: Client, prod_fc: Client
) -> None:
    revision = await put_project(
        client, "shop", shop(), code=CODE, environments=ENVIRONMENTS, env={"STAGE": "test"}
    )
    assert revision["number"] == 1
    assert revision["summary"]["layers"] == [["backend"], ["frontend"]]

    first = await plan(client, "shop")
    assert first["account"] == "local"
    states = {name: r["state"] for name, r in by_resource(first).items()}
    assert states == {"backend": "create", "frontend": "pending"}
    assert first["stale"] == []

    test = await deploy(client, "shop", base_revision=0)
    assert test["status"] == "succeeded", test
    results = by_resource(test)
    assert {r["status"] for r in results.values()} == {"deployed"}
    frontend = live(fc, "shop-frontend")
    # The output of one resource fed the next: the backend's trigger URL.
    assert frontend.environment_variables["BACKEND_URL"] == trigger_url(fc, "shop-backend")
    assert frontend.environment_variables["STAGE"] == "test"
    assert frontend.timeout == 30

    prod = await deploy(client, "shop", access="prod", base_revision=0)
    assert prod["account"] == "prod"
    assert prod["status"] == "succeeded", prod
    assert live(prod_fc, "shop-frontend").environment_variables["BACKEND_URL"] == trigger_url(
        prod_fc, "shop-backend"
    )

    # Someone raises the backend's memory in the console of the test account.
    sdk_update(fc, "shop-backend", memory_size=1024)
    await put_project(
        client,
        "shop",
        shop(timeout=60),
        code=CODE,
        environments=ENVIRONMENTS,
        env={"STAGE": "test"},
        base_revision=1,
    )
    seen = await plan(client, "shop")
    assert seen["stale"] == ["backend"]
    backend_plan = by_resource(seen)["backend"]["plan"]
    assert [c["path"] for c in backend_plan["remote_changes"]] == ["/memorySize"]

    refused = await client.post("/v1/projects/shop/deployments", json={"base_revision": 1})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "project_conflict"
    assert problem["refused"] == ["backend"]
    assert by_resource(problem["plan"])["backend"]["stale"] is True
    # Nothing landed: the frontend still has its old timeout.
    assert live(fc, "shop-frontend").timeout == 30

    resolved = await deploy(client, "shop", base_revision=1, strategies={"backend": "use-local"})
    assert resolved["status"] == "succeeded", resolved
    assert live(fc, "shop-backend").memory_size == 512
    assert live(fc, "shop-frontend").timeout == 60
    # Prod was not touched and is still at revision 1.
    assert live(prod_fc, "shop-frontend").timeout == 30
    project = (await client.get("/v1/projects/shop")).json()
    assert {t["account"]: t["revision"] for t in project["targets"]} == {"local": 2, "prod": 1}


async def test_redeploy_without_changes_changes_nothing(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await put_project(client, "shop", shop(), code=CODE, environments=ENVIRONMENTS)
    await deploy(client, "shop")
    again = await deploy(client, "shop", base_revision=1)
    assert {r["status"] for r in again["results"]} == {"unchanged"}


@pytest.mark.parametrize(
    ("broken", "expect"),
    [
        ("${vars.nope}", "vars.nope"),
        ("${nothing('x')}", "nothing"),
        ("${resources.ghost.output.x}", "ghost"),
    ],
)
async def test_bad_source_is_a_422_naming_file_line_and_expression(
    client: httpx.AsyncClient, broken: str, expect: str
) -> None:
    syaml = shop().replace("timeout: ${vars.timeout}", f"timeout: {broken}")
    response = await client.post("/v1/projects", json={"name": "shop", "files": {"s.yaml": syaml}})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["file"] == "s.yaml"
    line = syaml.splitlines().index(f"      timeout: {broken}") + 1
    assert problem["line"] == line
    assert expect in problem["detail"]
    assert (await client.get("/v1/projects/shop")).status_code == 404
