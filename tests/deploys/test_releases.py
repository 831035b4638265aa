"""Versions and aliases: published from the applied state, audited, guarded by their own
base, drift-checked, and rolled back in one call."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.emulator.server import EmbeddedEmulator
from service.models import WebhookEvent
from service.webhooks.catalog import EVENTS
from service.webhooks.payloads import EVENT_DATA
from service.webhooks.schemas import EventType
from tests.deploys.conftest import (
    BASE_CONFIG,
    deploy,
    first_deploy,
    handler_returning,
    sdk_update,
    upload,
)
from tests.fc import inject

FN = "/v1/accounts/local/functions"


async def _publish(client: httpx.AsyncClient, name: str, description: str) -> dict[str, Any]:
    response = await client.post(f"{FN}/{name}/versions", json={"description": description})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    location = response.headers["location"]
    assert location == f"{FN}/{name}/versions/{body['version_id']}"
    assert (await client.get(location)).json() == body
    return body


async def _alias(client: httpx.AsyncClient, name: str, alias: str, **body: Any) -> httpx.Response:
    return await client.put(f"{FN}/{name}/aliases/{alias}", json=body)


async def _two_versions(client: httpx.AsyncClient, name: str) -> tuple[str, str]:
    await first_deploy(client, name)  # returns "v1"
    v1 = (await _publish(client, name, "first"))["version_id"]
    sha = await upload(client, handler_returning("v2"))
    second = await deploy(client, name, BASE_CONFIG, base=1, code_sha256=sha)
    assert second.status_code == 201, second.text
    v2 = (await _publish(client, name, "second"))["version_id"]
    return v1, v2


async def test_versions_are_published_from_the_applied_state_and_audited(
    client: httpx.AsyncClient, fc: Client, fc_account: str, engine: AsyncEngine
) -> None:
    v1, v2 = await _two_versions(client, "rel")
    listed = (await client.get(f"{FN}/rel/versions")).json()
    assert [(v["version_id"], v["from_revision"], v["created_by"]) for v in listed] == [
        (v2, 2, "bootstrap"),
        (v1, 1, "bootstrap"),
    ]
    fc_versions = fc.list_function_versions("rel", fc_models.ListFunctionVersionsRequest())
    assert {v.version_id for v in fc_versions.body.versions} == {v1, v2}
    async with engine.connect() as conn:
        published = (
            await conn.scalars(
                select(WebhookEvent.payload).where(WebhookEvent.type == "version.published")
            )
        ).all()
    assert [p["version_id"] for p in published] == [v1, v2]
    assert set(published[0]) == set(EVENTS[EventType.VERSION_PUBLISHED].data)  # as documented
    EVENT_DATA[EventType.VERSION_PUBLISHED].model_validate(published[0])


async def test_a_version_of_a_drifted_function_is_refused(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "drifty")
    sdk_update(fc, "drifty", timeout=30)
    refused = await client.post(f"{FN}/drifty/versions", json={"description": "nope"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "drift_conflict"
    assert {"path": "/timeout", "base": 3, "value": 30} in refused.json()["remote_changes"]
    listed = fc.list_function_versions("drifty", fc_models.ListFunctionVersionsRequest())
    assert not listed.body.versions


async def test_aliases_have_their_own_base_and_roll_back_in_one_call(
    client: httpx.AsyncClient, fc: Client, fc_account: str, engine: AsyncEngine
) -> None:
    v1, v2 = await _two_versions(client, "aliased")
    created = await _alias(client, "aliased", "prod", version_id=v1, base_revision=0)
    assert created.status_code == 200, created.text
    assert (created.json()["revision"], created.json()["version_id"]) == (1, v1)
    canary = await _alias(
        client,
        "aliased",
        "prod",
        version_id=v1,
        additional_version_weight={v2: 0.1},
        base_revision=1,
    )
    assert canary.status_code == 200, canary.text
    assert canary.json()["additional_version_weight"] == {v2: 0.1}
    live = fc.get_alias("aliased", "prod").body
    assert live.additional_version_weight == {v2: 0.1}
    # A change from a stale base is refused, naming the head.
    stale = await _alias(client, "aliased", "prod", version_id=v2, base_revision=1)
    assert stale.status_code == 409
    assert (stale.json()["code"], stale.json()["head_revision"]) == ("revision_conflict", 2)
    # Rolling back restores the routing before the canary.
    rolled = await client.post(f"{FN}/aliased/aliases/prod/rollback", json={"base_revision": 2})
    assert rolled.status_code == 200, rolled.text
    assert (rolled.json()["revision"], rolled.json()["additional_version_weight"]) == (3, {})
    assert not fc.get_alias("aliased", "prod").body.additional_version_weight
    history = (await client.get(f"{FN}/aliased/aliases/prod/revisions")).json()
    assert [(r["number"], r["source"]) for r in history] == [
        (3, "rollback"),
        (2, "update"),
        (1, "update"),
    ]
    async with engine.connect() as conn:
        updates = (
            await conn.scalars(
                select(WebhookEvent.payload).where(WebhookEvent.type == "alias.updated")
            )
        ).all()
    assert [u["revision"] for u in updates] == [1, 2, 3]
    assert set(updates[0]) == set(EVENTS[EventType.ALIAS_UPDATED].data)  # as documented
    EVENT_DATA[EventType.ALIAS_UPDATED].model_validate(updates[0])


@pytest.mark.parametrize("how", ["check", "scan"])
async def test_an_alias_changed_in_the_console_is_drift(
    client: httpx.AsyncClient, fc: Client, fc_account: str, how: str
) -> None:
    v1, v2 = await _two_versions(client, "console")
    assert (await _alias(client, "console", "prod", version_id=v1, base_revision=0)).is_success
    fc.update_alias(
        "console",
        "prod",
        fc_models.UpdateAliasRequest(
            body=fc_models.UpdateAliasInput(version_id=v1, additional_version_weight={v2: 0.5})
        ),
    )
    if how == "check":
        check = (await client.post(f"{FN}/console/drift-check")).json()
        assert check["drifted"] is False  # the function itself is as applied
    else:
        scan = (await client.post("/v1/drift-checks")).json()
        assert (scan["drifted"], scan["failed"]) == ([], {})
    events = (await client.get("/v1/drift-events", params={"function": "console"})).json()
    [event] = events["items"]
    assert event["alias"] == "prod"
    assert event["changes"] == [
        {"path": f"/aliases/prod/additionalVersionWeight/{v2}", "base": None, "value": 0.5}
    ]
    assert (await client.get(f"{FN}/console/aliases/prod")).json()["drift_status"] == "drifted"
    # A change on top of it is refused as drift, then goes through with use-local.
    refused = await _alias(client, "console", "prod", version_id=v2, base_revision=1)
    assert refused.status_code == 409
    assert refused.json()["code"] == "drift_conflict"
    forced = await _alias(
        client, "console", "prod", version_id=v2, base_revision=1, strategy="use-local"
    )
    assert forced.status_code == 200, forced.text
    events = (await client.get("/v1/drift-events", params={"function": "console"})).json()
    assert [e["status"] for e in events["items"]] == ["resolved"]


def _binomial_bounds(n: int, p: float, tail: float = 1e-6) -> tuple[int, int]:
    """The central interval of Binomial(n, p) outside which each tail holds < ``tail``."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    low, acc = 0, 0.0
    while acc + pmf[low] < tail:
        acc += pmf[low]
        low += 1
    high, acc = n, 0.0
    while acc + pmf[high] < tail:
        acc += pmf[high]
        high -= 1
    return low, high


async def test_a_canary_alias_routes_its_share_of_invocations(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    v1, v2 = await _two_versions(client, "canary")
    routed = await _alias(
        client,
        "canary",
        "prod",
        version_id=v1,
        additional_version_weight={v2: 0.1},
        base_revision=0,
    )
    assert routed.status_code == 200, routed.text
    n = 1000
    answers = [
        fc.invoke_function(
            "canary", fc_models.InvokeFunctionRequest(qualifier="prod", body=b"")
        ).body.read()
        for _ in range(n)
    ]
    assert set(answers) <= {b"v1", b"v2"}
    low, high = _binomial_bounds(n, 0.1)
    assert low <= answers.count(b"v2") <= high, (answers.count(b"v2"), low, high)


async def test_a_deploy_during_a_publish_waits_for_it_and_sees_fc_as_it_is(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    await first_deploy(client, "busy")
    inject(emulator, action="PublishFunctionVersion", latencyMs=1500, count=1)
    publishing = asyncio.create_task(_publish(client, "busy", "slow publish"))
    for _ in range(100):  # until the publish holds the function
        await asyncio.sleep(0.05)
        shown = (await client.get(f"{FN}/busy")).json()
        if shown["deploying"]:
            break
    holder = shown["deploying"]
    assert holder.startswith("publish-"), shown

    # The plan compares with what FC runs (a publish changes nothing there), not
    # with an empty function, and says who holds it.
    plan = await client.post(
        f"{FN}/busy/plan", json={"config": {**BASE_CONFIG, "timeout": 9}, "base_revision": 1}
    )
    assert plan.status_code == 200, plan.text
    assert plan.json()["deploying"] == holder
    assert plan.json()["remote_changes"] == []
    assert plan.json()["local_changes"] == [{"path": "/timeout", "base": 3, "value": 9}]

    refused = await deploy(client, "busy", {**BASE_CONFIG, "timeout": 9}, base=1)
    assert refused.status_code == 409, refused.text
    assert refused.headers["Retry-After"]
    assert f"a publish ({holder}) holds this function now" in refused.json()["detail"]

    assert (await publishing)["from_revision"] == 1
    assert (await client.get(f"{FN}/busy")).json()["deploying"] is None
    assert (await deploy(client, "busy", {**BASE_CONFIG, "timeout": 9}, base=1)).status_code == 201
