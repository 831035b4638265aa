from __future__ import annotations

import httpx
from alibabacloud_fc20230330.client import Client

from service.emulator.server import EmbeddedEmulator
from tests.deploys.conftest import (
    BASE_CONFIG,
    deploy,
    first_deploy,
    handler_returning,
    live,
    sdk_update,
    upload,
)
from tests.fc import ADMIN_HEADERS


async def test_base_revision_rules(client: httpx.AsyncClient, fc_account: str) -> None:
    await first_deploy(client, "f1")
    missing = await deploy(client, "f1", BASE_CONFIG, base=None)
    assert missing.status_code == 428
    assert missing.json()["head_revision"] == 1
    future = await deploy(client, "f1", BASE_CONFIG, base=7)
    assert future.status_code == 422
    assert future.json()["field"] == "base_revision"
    unknown = await deploy(client, "nope", BASE_CONFIG, base=0)
    assert unknown.status_code == 404


async def test_stale_base_is_a_revision_conflict(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "f2")
    second = await deploy(client, "f2", {**BASE_CONFIG, "timeout": 10}, base=1)
    assert second.status_code == 201, second.text
    stale = await deploy(client, "f2", {**BASE_CONFIG, "memorySize": 1024}, base=1)
    assert stale.status_code == 409
    assert stale.json()["code"] == "revision_conflict"
    assert stale.json()["plan"]["head_revision"] == 2
    # A true conflict: both sides changed timeout to different values.
    clash = await deploy(client, "f2", {**BASE_CONFIG, "timeout": 30}, base=1, strategy="merge")
    assert clash.status_code == 409
    assert clash.json()["plan"]["conflicts"] == [
        {"path": "/timeout", "base": 3, "local": 30, "remote": 10}
    ]
    forced = await deploy(
        client, "f2", {**BASE_CONFIG, "timeout": 30}, base=1, strategy="use-local"
    )
    assert forced.status_code == 201
    assert live(fc, "f2").timeout == 30
    assert forced.json()["to_revision"] == 3


async def test_use_remote_adopts_the_live_state(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "f3")
    sdk_update(fc, "f3", description="edited in the console", memory_size=1024, cpu=0.5)
    adopted = await deploy(client, "f3", BASE_CONFIG, base=1, strategy="use-remote")
    assert adopted.status_code == 201, adopted.text
    revision = adopted.json()["revision"]
    assert revision["number"] == 2
    assert revision["source"] == "use-remote"
    assert revision["config"]["description"] == "edited in the console"
    assert revision["config"]["memorySize"] == 1024
    assert (await client.post("/v1/accounts/local/functions/f3/drift-check")).json()[
        "drifted"
    ] is False


async def test_code_only_change_is_drift_at_code(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    from tests.deploys.conftest import sdk_code

    await first_deploy(client, "f4")
    sdk_update(fc, "f4", code=sdk_code("def handler(event, context):\n    return 'hacked'\n"))
    check = (await client.post("/v1/accounts/local/functions/f4/drift-check")).json()
    assert check["drifted"] is True
    assert [c["path"] for c in check["changes"]] == ["/code"]
    event = (await client.get(f"/v1/drift-events/{check['event_id']}")).json()
    assert event["status"] == "open"
    # Deploying the known code again resolves it.
    sha = await upload(client, handler_returning("v1"))
    again = await deploy(client, "f4", BASE_CONFIG, base=1, code_sha256=sha, strategy="use-local")
    assert again.status_code == 201, again.text
    resolved = (await client.get(f"/v1/drift-events/{check['event_id']}")).json()
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "deploy"


async def test_drift_event_lifecycle(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "f5")
    sdk_update(fc, "f5", timeout=9)
    opened = (await client.post("/v1/accounts/local/functions/f5/drift-check")).json()
    sdk_update(fc, "f5", timeout=11)
    updated = (await client.post("/v1/accounts/local/functions/f5/drift-check")).json()
    assert updated["event_id"] == opened["event_id"]
    assert updated["changes"] == [{"path": "/timeout", "base": 3, "value": 11}]
    sdk_update(fc, "f5", timeout=3)
    back = (await client.post("/v1/accounts/local/functions/f5/drift-check")).json()
    assert back["drifted"] is False
    event = (await client.get(f"/v1/drift-events/{opened['event_id']}")).json()
    assert (event["status"], event["resolution"]) == ("resolved", "in-sync")
    scan = (await client.post("/v1/drift-checks")).json()
    assert scan == {"checked": 1, "drifted": [], "failed": {}}


async def test_fc_failure_leaves_head_and_applied_state(
    client: httpx.AsyncClient, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    await first_deploy(client, "f6")
    before = (await client.get("/v1/accounts/local/functions/f6")).json()
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"action": "UpdateFunction", "status": 500, "message": "simulated outage"},
        headers=ADMIN_HEADERS,
    ).raise_for_status()
    failed = await deploy(client, "f6", {**BASE_CONFIG, "timeout": 8}, base=1)
    assert failed.status_code == 502
    assert "simulated outage" in failed.json()["detail"]
    deployment_id = failed.json()["deployment_id"]
    after = (await client.get("/v1/accounts/local/functions/f6")).json()
    assert after["head_revision"] == before["head_revision"] == 1
    assert after["applied"] == before["applied"]
    recorded = (await client.get(f"/v1/deployments/{deployment_id}")).json()
    assert recorded["status"] == "failed"
    assert "simulated outage" in recorded["error"]["fc_message"]
    assert recorded["fc_request_ids"]


async def test_config_fc_rejects_is_422_with_fcs_message(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await first_deploy(client, "f7")
    rejected = await deploy(client, "f7", {**BASE_CONFIG, "runtime": "cobol85"}, base=1)
    assert rejected.status_code == 422
    assert rejected.json()["code"] == "fc_invalid_argument"
    assert "runtime" in rejected.json()["detail"]


async def test_invalid_config_names_each_field(client: httpx.AsyncClient, fc_account: str) -> None:
    await client.post("/v1/accounts/local/functions", json={"name": "f8"})
    response = await deploy(
        client, "f8", {"memorySize": 100, "timeout": 0, "memorysize": 1}, base=0
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"config.memorySize", "config.timeout", "config.memorysize"}


async def test_idempotency_key_never_deploys_twice(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await first_deploy(client, "f9")
    headers = {"Idempotency-Key": "retry-me-1"}
    body = {"config": {**BASE_CONFIG, "timeout": 5}, "base_revision": 1}
    first = await client.post(
        "/v1/accounts/local/functions/f9/deployments", json=body, headers=headers
    )
    again = await client.post(
        "/v1/accounts/local/functions/f9/deployments", json=body, headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert (await client.get("/v1/accounts/local/functions/f9")).json()["head_revision"] == 2
    listed = (await client.get("/v1/accounts/local/functions/f9/deployments")).json()["items"]
    assert len(listed) == 2


async def test_rollback_and_revisions(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "fa")
    sha2 = await upload(client, handler_returning("v2"))
    second = await deploy(client, "fa", {**BASE_CONFIG, "timeout": 7}, base=1, code_sha256=sha2)
    assert second.status_code == 201, second.text
    diff = (
        await client.get("/v1/accounts/local/functions/fa/diff", params={"from": 1, "to": 2})
    ).json()
    assert {c["path"] for c in diff["changes"]} == {"/timeout", "/code"}
    back = await client.post(
        "/v1/accounts/local/functions/fa/rollback", json={"to_revision": 1, "base_revision": 2}
    )
    assert back.status_code == 201, back.text
    assert back.json()["to_revision"] == 3
    assert back.json()["kind"] == "rollback"
    assert live(fc, "fa").timeout == 3
    revisions = (await client.get("/v1/accounts/local/functions/fa/revisions")).json()["items"]
    assert [r["number"] for r in revisions] == [3, 2, 1]
    assert revisions[0]["code_sha256"] == revisions[2]["code_sha256"]
    assert (await client.get("/v1/accounts/local/functions/fa/revisions/9")).status_code == 404
    stale = await client.post(
        "/v1/accounts/local/functions/fa/rollback", json={"to_revision": 2, "base_revision": 2}
    )
    assert stale.status_code == 409


async def test_saved_plan_goes_stale(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "fb")
    saved = await client.post(
        "/v1/accounts/local/functions/fb/plan",
        json={"config": {**BASE_CONFIG, "timeout": 12}, "base_revision": 1, "save": True},
    )
    assert saved.status_code == 200, saved.text
    plan = saved.json()
    assert plan["local_changes"] == [{"path": "/timeout", "base": 3, "value": 12}]
    assert (await client.get(f"/v1/plans/{plan['id']}")).json()["id"] == plan["id"]
    sdk_update(fc, "fb", description="someone else")
    stale = await client.post(f"/v1/plans/{plan['id']}/apply")
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_plan"
    sdk_update(fc, "fb", description="")
    fresh = await client.post(
        "/v1/accounts/local/functions/fb/plan",
        json={"config": {**BASE_CONFIG, "timeout": 12}, "base_revision": 1, "save": True},
    )
    applied = await client.post(f"/v1/plans/{fresh.json()['id']}/apply")
    assert applied.status_code == 201, applied.text
    assert live(fc, "fb").timeout == 12
    twice = await client.post(f"/v1/plans/{fresh.json()['id']}/apply")
    assert twice.json()["code"] == "stale_plan"
    assert (await client.get("/v1/plans/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_adopt_and_remove(client: httpx.AsyncClient, fc: Client, fc_account: str) -> None:
    from alibabacloud_fc20230330 import models as fc_models

    from tests.deploys.conftest import sdk_code

    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="legacy",
                runtime="python3.10",
                handler="index.handler",
                code=sdk_code("def handler(e, c):\n    return 'old'\n"),
                timeout=15,
            )
        )
    )
    adopted = await client.post(
        "/v1/accounts/local/functions", json={"name": "legacy", "adopt": True}
    )
    assert adopted.status_code == 201, adopted.text
    assert adopted.json()["head_revision"] == 1
    assert adopted.json()["applied"]["config"]["timeout"] == 15
    assert (
        await client.post("/v1/accounts/local/functions", json={"name": "ghost", "adopt": True})
    ).status_code == 422
    guarded = await client.delete(
        "/v1/accounts/local/functions/legacy", params={"base_revision": 0}
    )
    assert guarded.status_code == 409
    removed = await client.delete(
        "/v1/accounts/local/functions/legacy", params={"base_revision": 1, "delete_remote": "true"}
    )
    assert removed.status_code == 204
    assert (await client.get("/v1/accounts/local/functions/legacy")).status_code == 404
    assert [
        f.function_name for f in fc.list_functions(fc_models.ListFunctionsRequest()).body.functions
    ] == []


async def test_removing_a_block_clears_it_in_fc(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    dns = {"nameServers": ["10.0.0.2"], "searches": ["svc.local"]}
    await first_deploy(client, "fc1", customDNS=dns)
    assert live(fc, "fc1").custom_dns.name_servers == ["10.0.0.2"]
    cleared = await deploy(client, "fc1", BASE_CONFIG, base=1)
    assert cleared.status_code == 201, cleared.text
    assert "customDNS" not in cleared.json()["revision"]["config"]
    assert (await client.post("/v1/accounts/local/functions/fc1/drift-check")).json()[
        "drifted"
    ] is False
