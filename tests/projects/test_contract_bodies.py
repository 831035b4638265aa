"""A project deploy's 409 is a ProjectConflictProblem with the typed project plan; what
is created is answered with its Location."""

from __future__ import annotations

import httpx
from alibabacloud_fc20230330.client import Client

from service.projects.schemas import ProjectConflictProblem, ProjectDeploymentOut
from tests.deploys.conftest import sdk_update, upload
from tests.projects.conftest import handler_zip
from tests.projects.test_project_deploys import project, resource


async def test_project_creates_are_located_and_conflicts_typed(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    sha = await upload(client, handler_zip("hi"))
    source = {"name": "p", "files": {"s.yaml": project(resource("a"))}, "code": {"./code": sha}}
    created = await client.post("/v1/projects", json=source)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/projects/p/revisions/1"
    assert (await client.get(created.headers["location"])).json() == created.json()
    again = await client.post("/v1/projects", json={**source, "base_revision": 1})
    assert again.status_code == 200
    assert "location" not in again.headers

    deployed = await client.post("/v1/projects/p/deployments", json={})
    assert deployed.status_code == 201, deployed.text
    location = deployed.headers["location"]
    assert location == f"/v1/projects/p/deployments/{deployed.json()['id']}"
    shown = await client.get(location)
    assert shown.json() == deployed.json()
    assert ProjectDeploymentOut.model_validate(shown.json()).results[0].status == "deployed"

    sdk_update(fc, "p-a", description="from the console")
    refused = await client.post("/v1/projects/p/deployments", json={})
    assert refused.status_code == 409
    problem = ProjectConflictProblem.model_validate(refused.json())
    assert (problem.code, problem.refused) == ("project_conflict", ["a"])
    assert problem.plan is not None
    (planned,) = problem.plan.resources
    assert planned.plan is not None
    assert [c.path for c in planned.plan.remote_changes] == ["/description"]
    assert problem.deployment_id is not None
    assert (
        await client.get(f"/v1/projects/p/deployments/{problem.deployment_id}")
    ).status_code == 200
    assert (await client.get("/v1/projects/p/deployments/0000")).status_code == 404
