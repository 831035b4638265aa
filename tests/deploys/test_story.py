"""The seed's story: a deploy must never silently overwrite somebody else's change."""

from __future__ import annotations

import httpx
from alibabacloud_fc20230330.client import Client

from tests.deploys.conftest import deploy, first_deploy, live, sdk_update


async def test_merge_keeps_both_changes(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    # A deploys.
    first = await first_deploy(client, "hello")
    assert first["status"] == "succeeded"
    assert first["to_revision"] == 1

    # B changes the live function straight through the SDK, as in the console.
    sdk_update(fc, "hello", timeout=20)

    # A's next deploy (memory) is refused with B's change in remote_changes.
    refused = await deploy(
        client,
        "hello",
        {
            "runtime": "python3.10",
            "handler": "index.handler",
            "memorySize": 1024,
            "cpu": 0.35,
            "timeout": 3,
        },
        base=1,
    )
    assert refused.status_code == 409
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "drift_conflict"
    plan = problem["plan"]
    assert plan["drifted"] is True
    assert {"path": "/timeout", "base": 3, "value": 20} in plan["remote_changes"]
    assert {"path": "/memorySize", "base": 512, "value": 1024} in plan["local_changes"]
    assert plan["conflicts"] == []
    assert {"op": "replace", "path": "/timeout", "value": 20} in plan["remote_patch"]
    assert "~ memorySize: 512 => 1024" in plan["text"]

    # A retries with merge: both changes are live.
    merged = await deploy(
        client,
        "hello",
        {
            "runtime": "python3.10",
            "handler": "index.handler",
            "memorySize": 1024,
            "cpu": 0.35,
            "timeout": 3,
        },
        base=1,
        strategy="merge",
    )
    assert merged.status_code == 201, merged.text
    assert merged.json()["to_revision"] == 2
    now = live(fc, "hello")
    assert now.memory_size == 1024
    assert now.timeout == 20
    revision = merged.json()["revision"]
    assert revision["config"]["timeout"] == 20
    assert revision["config"]["memorySize"] == 1024

    # A drift check afterwards is clean.
    check = await client.post("/v1/accounts/local/functions/hello/drift-check")
    assert check.status_code == 200
    assert check.json()["drifted"] is False
    function = (await client.get("/v1/accounts/local/functions/hello")).json()
    assert function["drift_status"] == "in_sync"
    assert function["head_revision"] == 2
    # The refused deploy saw B's console edit and recorded it as drift; the merge
    # that took it in resolved that event, naming itself.
    events = (await client.get("/v1/drift-events", params={"function": "hello"})).json()
    [event] = events["items"]
    assert event["changes"] == [{"path": "/timeout", "base": 3, "value": 20}]
    assert event["status"] == "resolved"
    assert event["resolution"] == "deploy"
    assert event["resolved_by_deployment_id"] == merged.json()["id"]
