"""The bodies the OpenAPI document promises are what the API sends: a deploy's 409 is a
ConflictProblem with a typed plan, an alias's 409 a ReleaseConflictProblem, and what a
request creates is answered with its Location."""

from __future__ import annotations

import httpx
from alibabacloud_fc20230330.client import Client

from service.deploys.schemas import ConflictProblem
from service.functions.schemas import Change
from service.releases.schemas import ReleaseConflictProblem
from tests.deploys.conftest import (
    BASE_CONFIG,
    deploy,
    emulator,
    fc,
    fc_account,
    handler_returning,
    sdk_update,
    upload,
)

__all__ = ["emulator", "fc", "fc_account"]

FN = "/v1/accounts/local/functions"


async def test_a_refused_deploy_is_a_conflict_problem_with_a_typed_plan(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    sha = await upload(client, handler_returning("v1"))
    registered = await client.post(FN, json={"name": "typed"})
    assert registered.headers["location"] == f"{FN}/typed"
    assert (await client.get(registered.headers["location"])).status_code == 200
    first = await deploy(client, "typed", BASE_CONFIG, None, code_sha256=sha)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"/v1/deployments/{first.json()['id']}"

    sdk_update(fc, "typed", description="from the console")
    refused = await deploy(client, "typed", {**BASE_CONFIG, "timeout": 9}, 1)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = ConflictProblem.model_validate(refused.json())
    assert problem.code == "drift_conflict"
    assert problem.plan is not None
    assert problem.plan.remote_changes == [
        Change(path="/description", base="", value="from the console")
    ]
    assert [c.path for c in problem.plan.local_changes] == ["/timeout"]
    assert problem.deployment_id is not None
    recorded = await client.get(f"/v1/deployments/{problem.deployment_id}")
    assert recorded.json()["status"] == "conflict"

    merged = await deploy(client, "typed", {**BASE_CONFIG, "timeout": 9}, 1, strategy="merge")
    assert merged.status_code == 201, merged.text
    assert merged.headers["location"] == f"/v1/deployments/{merged.json()['id']}"
    back = {"to_revision": 1, "base_revision": 2}
    rollback = await client.post(f"{FN}/typed/rollback", json=back)
    assert rollback.status_code == 201, rollback.text
    assert rollback.headers["location"] == f"/v1/deployments/{rollback.json()['id']}"


async def test_a_stale_alias_change_is_a_release_conflict_problem(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    sha = await upload(client, handler_returning("v1"))
    assert (await client.post(FN, json={"name": "aliased"})).status_code == 201
    first = await deploy(client, "aliased", BASE_CONFIG, None, code_sha256=sha)
    assert first.status_code == 201, first.text
    published = await client.post(f"{FN}/aliased/versions", json={})
    assert published.status_code == 201, published.text
    body = {"version_id": published.json()["version_id"], "base_revision": 0}
    assert (await client.put(f"{FN}/aliased/aliases/prod", json=body)).status_code == 200
    stale = await client.put(f"{FN}/aliased/aliases/prod", json={**body, "description": "x"})
    assert stale.status_code == 409
    problem = ReleaseConflictProblem.model_validate(stale.json())
    assert (problem.code, problem.head_revision) == ("revision_conflict", 1)
    assert problem.local_changes == [Change(path="/description", base="", value="x")]
    # An alias takes only the strategies that make sense for it (one enum for all).
    merge = await client.put(f"{FN}/aliased/aliases/prod", json={**body, "strategy": "merge"})
    assert merge.status_code == 422
    assert [e["field"] for e in merge.json()["errors"]] == ["strategy"]
