"""Deploys change the tags of existing functions through FC's tag API."""

from __future__ import annotations

from typing import Any

import httpx
from alibabacloud_fc20230330.client import Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.emulator.server import EmbeddedEmulator
from service.models import WebhookEvent
from tests.deploys.conftest import (
    BASE_CONFIG,
    deploy,
    first_deploy,
    live,
    live_tags,
    sdk_tag,
    wire_tags,
)
from tests.fc import inject


def tagged(tags: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {**BASE_CONFIG, **overrides, "tags": wire_tags(tags)}


async def events(engine: AsyncEngine, function: str, kind: str | None = None) -> list[Any]:
    query = select(WebhookEvent).where(WebhookEvent.function == function)
    if kind is not None:
        query = query.where(WebhookEvent.type == kind)
    async with engine.connect() as conn:
        return list((await conn.execute(query.order_by(WebhookEvent.seq))).all())


async def drift(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    check: dict[str, Any] = (
        await client.post(f"/v1/accounts/local/functions/{name}/drift-check")
    ).json()
    return check


async def test_add_change_and_remove_tags(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "t1", tags=wire_tags({"team": "a", "env": "dev"}))
    assert live_tags(fc, "t1") == {"team": "a", "env": "dev"}

    retag = await deploy(client, "t1", tagged({"team": "b", "owner": "x"}), base=1)
    assert retag.status_code == 201, retag.text
    assert live_tags(fc, "t1") == {"team": "b", "owner": "x"}
    body = retag.json()
    assert body["to_revision"] == 2
    assert body["revision"]["config"]["tags"] == {"owner": "x", "team": "b"}
    # UntagResources, TagResources and the read-back (a tags-only change needs no UpdateFunction).
    assert len(body["fc_request_ids"]) == 3

    added = await deploy(
        client, "t1", tagged({"team": "b", "owner": "x", "cost-center": "42"}), base=2
    )
    assert added.status_code == 201, added.text
    assert live_tags(fc, "t1") == {"team": "b", "owner": "x", "cost-center": "42"}

    cleared = await deploy(client, "t1", BASE_CONFIG, base=3)
    assert cleared.status_code == 201, cleared.text
    assert live_tags(fc, "t1") == {}
    assert cleared.json()["revision"]["config"]["tags"] == {}
    assert (await drift(client, "t1"))["drifted"] is False


async def test_tag_only_change_is_a_real_deploy(
    client: httpx.AsyncClient, fc: Client, fc_account: str, engine: AsyncEngine
) -> None:
    await first_deploy(client, "t2", tags=wire_tags({"team": "a"}))
    modified = live(fc, "t2").last_modified_time
    planned = await client.post(
        "/v1/accounts/local/functions/t2/plan",
        json={"config": tagged({"team": "b"}), "base_revision": 1},
    )
    assert planned.json()["local_changes"] == [{"path": "/tags/team", "base": "a", "value": "b"}]

    retag = await deploy(client, "t2", tagged({"team": "b"}), base=1, message="retag")
    assert retag.status_code == 201, retag.text
    assert retag.json()["status"] == "succeeded"
    assert retag.json()["to_revision"] == 2
    assert live_tags(fc, "t2") == {"team": "b"}
    assert live(fc, "t2").last_modified_time == modified  # no UpdateFunction was sent
    function = (await client.get("/v1/accounts/local/functions/t2")).json()
    assert function["head_revision"] == 2
    assert function["applied"]["config"]["tags"] == {"team": "b"}

    succeeded = await events(engine, "t2")
    assert [e.type for e in succeeded] == ["deploy.succeeded", "deploy.succeeded"]
    assert succeeded[-1].payload["changes"] == [{"path": "/tags/team", "base": "a", "value": "b"}]


async def test_tags_and_config_change_together(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "t3", tags=wire_tags({"team": "a", "env": "dev"}))
    both = await deploy(client, "t3", tagged({"team": "a", "env": "prod"}, timeout=9), base=1)
    assert both.status_code == 201, both.text
    now = live(fc, "t3")
    assert now.timeout == 9
    assert live_tags(fc, "t3") == {"team": "a", "env": "prod"}
    # UpdateFunction, TagResources, the read-back.
    assert len(both.json()["fc_request_ids"]) == 3
    assert both.json()["revision"]["config"]["timeout"] == 9
    assert (await drift(client, "t3"))["drifted"] is False


async def test_tags_added_in_the_console_are_drift_and_use_remote_adopts_them(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "t4", tags=wire_tags({"team": "a"}))
    sdk_tag(fc, "t4", {"owner": "console-user"})

    check = await drift(client, "t4")
    assert check["drifted"] is True
    assert check["changes"] == [{"path": "/tags/owner", "base": None, "value": "console-user"}]
    refused = await deploy(client, "t4", tagged({"team": "a"}, timeout=5), base=1)
    assert refused.status_code == 409
    assert refused.json()["code"] == "drift_conflict"
    assert {"path": "/tags/owner", "base": None, "value": "console-user"} in refused.json()["plan"][
        "remote_changes"
    ]

    adopted = await deploy(client, "t4", tagged({"team": "a"}), base=1, strategy="use-remote")
    assert adopted.status_code == 201, adopted.text
    assert adopted.json()["revision"]["config"]["tags"] == {"owner": "console-user", "team": "a"}
    assert (await drift(client, "t4"))["drifted"] is False
    event = (await client.get(f"/v1/drift-events/{check['event_id']}")).json()
    assert (event["status"], event["resolution"]) == ("resolved", "use-remote")


async def test_merge_keeps_a_remote_tag_change_and_a_local_config_change(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "t5", tags=wire_tags({"team": "a", "env": "dev"}))
    sdk_tag(fc, "t5", {"team": "ops"})
    # Locally: more memory, and a tag of our own; the remote tag change is not ours to undo.
    local = tagged({"team": "a", "env": "dev", "release": "7"}, memorySize=1024)
    refused = await deploy(client, "t5", local, base=1)
    assert refused.status_code == 409
    merged = await deploy(client, "t5", local, base=1, strategy="merge")
    assert merged.status_code == 201, merged.text
    assert live(fc, "t5").memory_size == 1024
    assert live_tags(fc, "t5") == {"team": "ops", "env": "dev", "release": "7"}
    assert merged.json()["revision"]["config"]["tags"] == {
        "env": "dev",
        "release": "7",
        "team": "ops",
    }
    assert (await drift(client, "t5"))["drifted"] is False

    # Both sides changing the same tag differently is a conflict, as for any field.
    sdk_tag(fc, "t5", {"env": "staging"})
    clash = await deploy(
        client,
        "t5",
        tagged({"team": "ops", "env": "prod", "release": "7"}, memorySize=1024),
        base=2,
        strategy="merge",
    )
    assert clash.status_code == 409
    assert clash.json()["plan"]["conflicts"] == [
        {"path": "/tags/env", "base": "dev", "local": "prod", "remote": "staging"}
    ]
    assert live_tags(fc, "t5")["env"] == "staging"


async def test_rollback_restores_tags(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "t6", tags=wire_tags({"team": "a", "env": "dev"}))
    second = await deploy(client, "t6", tagged({"team": "b"}, timeout=7), base=1)
    assert second.status_code == 201, second.text
    back = await client.post(
        "/v1/accounts/local/functions/t6/rollback", json={"to_revision": 1, "base_revision": 2}
    )
    assert back.status_code == 201, back.text
    assert live_tags(fc, "t6") == {"team": "a", "env": "dev"}
    assert live(fc, "t6").timeout == 3
    assert back.json()["revision"]["config"]["tags"] == {"env": "dev", "team": "a"}


async def test_tag_failure_after_update_function_is_recorded_truthfully(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    emulator: EmbeddedEmulator,
    engine: AsyncEngine,
) -> None:
    await first_deploy(client, "t7", tags=wire_tags({"team": "a"}))
    before = (await client.get("/v1/accounts/local/functions/t7")).json()
    inject(emulator, action="TagResources", status=500, message="tag outage")
    target = tagged({"team": "b"}, timeout=8)
    failed = await deploy(client, "t7", target, base=1)
    assert failed.status_code == 502, failed.text
    problem = failed.json()
    assert "tag outage" in problem["detail"]
    assert "UpdateFunction" in problem["detail"]
    assert problem["fc_applied"] == ["UpdateFunction"]

    # FC runs the new timeout with the old tags; fcplane recorded no success.
    assert live(fc, "t7").timeout == 8
    assert live_tags(fc, "t7") == {"team": "a"}
    after = (await client.get("/v1/accounts/local/functions/t7")).json()
    assert after["head_revision"] == 1
    assert after["applied"] == before["applied"]
    assert after["deploying"] is None
    recorded = (await client.get(f"/v1/deployments/{problem['deployment_id']}")).json()
    assert recorded["status"] == "failed"
    assert recorded["to_revision"] is None
    assert recorded["error"]["fc_applied"] == ["UpdateFunction"]
    assert recorded["error"]["fc_code"] == "InternalServerError"
    # UpdateFunction's request id and the failed TagResources call's.
    assert len(recorded["fc_request_ids"]) == 2
    assert recorded["error"]["fc_request_id"] == recorded["fc_request_ids"][-1]
    failed_events = await events(engine, "t7", "deploy.failed")
    assert [e.payload["error"]["fc_applied"] for e in failed_events] == [["UpdateFunction"]]

    # The next plan shows exactly what landed: the timeout, not the tag.
    plan = (
        await client.post(
            "/v1/accounts/local/functions/t7/plan", json={"config": target, "base_revision": 1}
        )
    ).json()
    assert plan["drifted"] is True
    assert plan["remote_changes"] == [{"path": "/timeout", "base": 3, "value": 8}]
    assert {"path": "/tags/team", "base": "a", "value": "b"} in plan["local_changes"]
    assert plan["conflicts"] == []
    check = await drift(client, "t7")
    assert check["changes"] == [{"path": "/timeout", "base": 3, "value": 8}]

    # Finishing the deploy lands the tag and records both changes.
    finished = await deploy(client, "t7", target, base=1, strategy="merge")
    assert finished.status_code == 201, finished.text
    assert live_tags(fc, "t7") == {"team": "b"}
    assert finished.json()["revision"]["config"]["tags"] == {"team": "b"}
    assert (await drift(client, "t7"))["drifted"] is False


async def test_failed_tag_only_change_lands_nothing(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    await first_deploy(client, "t8", tags=wire_tags({"team": "a", "env": "dev"}))
    inject(emulator, action="UntagResources", status=503, message="untag outage")
    body = {"config": tagged({"team": "b"}), "base_revision": 1}
    key = {"Idempotency-Key": "retag-t8"}
    failed = await client.post(
        "/v1/accounts/local/functions/t8/deployments", json=body, headers=key
    )
    assert failed.status_code == 502, failed.text
    assert "fc_applied" not in failed.json()
    assert live_tags(fc, "t8") == {"team": "a", "env": "dev"}
    assert (await drift(client, "t8"))["drifted"] is False
    # The same key answers the same failure, and never deploys again.
    again = await client.post("/v1/accounts/local/functions/t8/deployments", json=body, headers=key)
    assert again.status_code == 502
    assert again.json()["deployment_id"] == failed.json()["deployment_id"]
    assert live_tags(fc, "t8") == {"team": "a", "env": "dev"}


async def test_untag_landed_then_tag_failed_is_named(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    await first_deploy(client, "t9", tags=wire_tags({"team": "a", "env": "dev"}))
    inject(emulator, action="TagResources", status=500)
    failed = await deploy(client, "t9", tagged({"team": "b"}), base=1)
    assert failed.status_code == 502
    assert failed.json()["fc_applied"] == ["UntagResources"]
    assert live_tags(fc, "t9") == {"team": "a"}
    check = await drift(client, "t9")
    assert check["changes"] == [{"path": "/tags/env", "base": "dev", "value": None}]
    assert (await client.get("/v1/accounts/local/functions/t9")).json()["head_revision"] == 1
    forced = await deploy(client, "t9", tagged({"team": "b"}), base=1, strategy="use-local")
    assert forced.status_code == 201, forced.text
    assert live_tags(fc, "t9") == {"team": "b"}


async def test_tags_without_a_key_or_with_a_key_twice_are_refused(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await client.post("/v1/accounts/local/functions", json={"name": "t10"})
    for tags in (
        [{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}],
        [{"Value": "orphan"}],
    ):
        refused = await deploy(client, "t10", {**BASE_CONFIG, "tags": tags}, base=0)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["config.tags"]
