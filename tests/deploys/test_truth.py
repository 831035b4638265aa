"""The deploy path tells the whole truth: who moved the function, what drifted, what a
strategy left out, and what an Idempotency-Key replays."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from alibabacloud_fc20230330.client import Client
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.emulator.server import EmbeddedEmulator
from service.models import Function, WebhookEvent
from service.models.base import utcnow
from tests.deploys.conftest import BASE_CONFIG, deploy, first_deploy, live, sdk_update
from tests.deploys.test_concurrency import die_after_push, listed_timeout
from tests.fc import inject

TIMEOUT_20 = {"path": "/timeout", "base": 3, "value": 20}
MEMORY_1024 = {"path": "/memorySize", "base": 512, "value": 1024}


async def _event_types(engine: AsyncEngine, function: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.scalars(
            select(WebhookEvent.type)
            .where(WebhookEvent.function == function)
            .order_by(WebhookEvent.seq)
        )
        return list(rows.all())


async def _drift_events(client: httpx.AsyncClient, function: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/drift-events", params={"function": function})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _expire_claim(app: FastAPI, name: str) -> None:
    """Let a deploy's claim run out now, as the lease's time would."""
    async with app.state.fcplane.db.write() as session:
        await session.execute(
            update(Function)
            .where(Function.name == name)
            .values(deploy_lease_until=utcnow() - timedelta(seconds=1))
        )


# -- point 3: a race loser is told what the winner did --------------------------


async def test_every_race_loser_sees_the_winners_change_as_a_revision_conflict(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "race")
    responses = await asyncio.gather(
        *(deploy(client, "race", {**BASE_CONFIG, "timeout": 100 + i}, base=1) for i in range(30))
    )
    [winner] = [r.json() for r in responses if r.status_code == 201]
    won = winner["revision"]["config"]["timeout"]
    losers = [r for r in responses if r.status_code != 201]
    assert len(losers) == 29
    for loser in losers:
        assert loser.status_code == 409, loser.text
        problem = loser.json()
        assert problem["code"] == "revision_conflict", problem
        plan = problem["plan"]
        # What the winner deployed (or is deploying) is exactly the remote change.
        assert {"path": "/timeout", "base": 3, "value": won} in plan["remote_changes"], plan
        assert plan["drifted"] is False
        if plan["deploying"] is not None:
            # Arrived while the winner was still pushing: told when to come back.
            assert plan["deploying"] == winner["id"]
            assert int(loser.headers["retry-after"]) >= 1
        else:
            assert plan["head_revision"] == 2


async def test_a_deploy_during_another_ones_push_is_told_what_it_pushes(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    await first_deploy(client, "slow")
    inject(emulator, action="UpdateFunction", latencyMs=1500, count=1)
    first = asyncio.create_task(deploy(client, "slow", {**BASE_CONFIG, "timeout": 30}, base=1))
    for _ in range(100):  # until the first deploy holds the function
        await asyncio.sleep(0.05)
        if (await client.get("/v1/accounts/local/functions/slow")).json()["deploying"]:
            break
    second = await deploy(client, "slow", {**BASE_CONFIG, "memorySize": 1024}, base=1)
    plan_now = await client.post(
        "/v1/accounts/local/functions/slow/plan", json={"config": BASE_CONFIG, "base_revision": 1}
    )
    winner = await first
    assert winner.status_code == 201, winner.text

    assert second.status_code == 409
    problem = second.json()
    assert problem["code"] == "revision_conflict"
    assert problem["plan"]["deploying"] == winner.json()["id"]
    assert problem["plan"]["remote_changes"] == [{"path": "/timeout", "base": 3, "value": 30}]
    assert problem["plan"]["local_changes"] == [MEMORY_1024]
    assert second.headers["retry-after"].isdigit()
    # A plan made meanwhile shows the same, and records no drift.
    assert plan_now.status_code == 200
    assert plan_now.json()["deploying"] == winner.json()["id"]
    assert plan_now.json()["drifted"] is False
    assert await _drift_events(client, "slow") == []


async def test_a_deploy_that_read_fc_after_another_ones_push_is_not_told_it_is_drift(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    # The slow deploy loads the function before the other one claims it, and reads
    # FC after the other one pushed: FC differs from the applied state it loaded,
    # but that is the other deploy's change, not drift.
    await first_deploy(client, "late")
    inject(emulator, action="GetFunction", latencyMs=1500, count=1)
    slow = asyncio.create_task(deploy(client, "late", {**BASE_CONFIG, "timeout": 50}, base=1))
    await asyncio.sleep(0.5)  # the slow one waits for FC now
    fast = await deploy(client, "late", {**BASE_CONFIG, "timeout": 60}, base=1)
    assert fast.status_code == 201, fast.text
    refused = await slow
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "revision_conflict", problem
    assert {"path": "/timeout", "base": 3, "value": 60} in problem["plan"]["remote_changes"]
    assert await _drift_events(client, "late") == []


# -- point 4: drift seen anywhere is recorded -----------------------------------


async def test_a_plan_that_sees_drift_records_it(
    client: httpx.AsyncClient, fc: Client, fc_account: str, engine: AsyncEngine
) -> None:
    await first_deploy(client, "seen")
    sdk_update(fc, "seen", timeout=20)
    body = {"config": BASE_CONFIG, "base_revision": 1}
    plan = await client.post("/v1/accounts/local/functions/seen/plan", json=body)
    assert plan.status_code == 200
    assert plan.json()["drifted"] is True
    [event] = await _drift_events(client, "seen")
    assert event["status"] == "open"
    assert event["changes"] == [TIMEOUT_20]
    assert (await client.get("/v1/accounts/local/functions/seen")).json()[
        "drift_status"
    ] == "drifted"
    # Seen again: the same event, no second notification.
    await client.post("/v1/accounts/local/functions/seen/plan", json=body)
    assert len(await _drift_events(client, "seen")) == 1
    assert await _event_types(engine, "seen") == ["deploy.succeeded", "drift.opened"]


async def test_use_local_over_drift_opens_and_resolves_it_and_names_what_it_overwrote(
    client: httpx.AsyncClient, fc: Client, fc_account: str, engine: AsyncEngine
) -> None:
    await first_deploy(client, "over")
    sdk_update(fc, "over", timeout=20)
    response = await deploy(
        client, "over", {**BASE_CONFIG, "memorySize": 1024}, base=1, strategy="use-local"
    )
    assert response.status_code == 201, response.text
    deployment = response.json()
    assert deployment["overwritten_changes"] == [TIMEOUT_20]
    assert deployment["discarded_changes"] == []
    assert live(fc, "over").timeout == 3
    [event] = await _drift_events(client, "over")
    assert event["status"] == "resolved"
    assert event["resolution"] == "deploy"
    assert event["resolved_by_deployment_id"] == deployment["id"]
    assert await _event_types(engine, "over") == [
        "deploy.succeeded",
        "drift.opened",
        "drift.resolved",
        "deploy.succeeded",
    ]
    async with engine.connect() as conn:
        payloads = (
            await conn.scalars(
                select(WebhookEvent.payload)
                .where(WebhookEvent.function == "over", WebhookEvent.type == "deploy.succeeded")
                .order_by(WebhookEvent.seq)
            )
        ).all()
    assert payloads[-1]["overwritten_changes"] == [TIMEOUT_20]


async def test_use_remote_names_the_local_changes_it_discarded(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "adopt")
    sdk_update(fc, "adopt", timeout=20)
    response = await deploy(
        client, "adopt", {**BASE_CONFIG, "memorySize": 1024}, base=1, strategy="use-remote"
    )
    assert response.status_code == 201, response.text
    deployment = response.json()
    assert deployment["discarded_changes"] == [MEMORY_1024]
    assert deployment["revision"]["config"]["timeout"] == 20
    assert deployment["revision"]["config"]["memorySize"] == 512
    [event] = await _drift_events(client, "adopt")
    assert (event["resolution"], event["resolved_by_deployment_id"]) == (
        "use-remote",
        deployment["id"],
    )


async def test_a_rollback_over_drift_resolves_it_with_its_id(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "back")
    second = await deploy(client, "back", {**BASE_CONFIG, "memorySize": 1024}, base=1)
    assert second.status_code == 201
    sdk_update(fc, "back", timeout=20)
    assert (await client.post("/v1/accounts/local/functions/back/drift-check")).json()[
        "drifted"
    ] is True
    rollback = await client.post(
        "/v1/accounts/local/functions/back/rollback",
        json={"to_revision": 1, "base_revision": 2, "strategy": "use-local"},
    )
    assert rollback.status_code == 201, rollback.text
    [event] = await _drift_events(client, "back")
    assert event["resolution"] == "rollback"
    assert event["resolved_by_deployment_id"] == rollback.json()["id"]


async def test_a_crashed_deploy_is_blamed_even_when_a_check_ran_while_it_held_the_claim(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    emulator: EmbeddedEmulator,
    app: FastAPI,
) -> None:
    await die_after_push(client, fc, emulator, "crash")
    doomed = (await client.get("/v1/accounts/local/functions/crash")).json()["deploying"]
    assert doomed is not None
    # While the dead deploy's claim still runs, its change is not drift (yet).
    during = (await client.post("/v1/accounts/local/functions/crash/drift-check")).json()
    assert during["deploying"] == doomed
    assert during["drifted"] is False
    assert await _drift_events(client, "crash") == []
    # The claim runs out (as time would make it): the change is the dead deploy's.
    await _expire_claim(app, "crash")
    after = (await client.post("/v1/accounts/local/functions/crash/drift-check")).json()
    assert after["drifted"] is True
    assert after["interrupted_deployment"] == doomed
    [event] = await _drift_events(client, "crash")
    assert event["deployment_id"] == doomed
    assert (await client.get(f"/v1/deployments/{doomed}")).json()["status"] == "interrupted"


async def test_a_drift_event_opened_before_a_crashed_deploy_is_attributed_to_it(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    emulator: EmbeddedEmulator,
    app: FastAPI,
) -> None:
    await first_deploy(client, "blame")
    sdk_update(fc, "blame", memory_size=1024)
    assert (await client.post("/v1/accounts/local/functions/blame/drift-check")).json()[
        "drifted"
    ] is True
    [opened] = await _drift_events(client, "blame")
    assert opened["deployment_id"] is None
    # A use-local deploy pushes over the drift and dies before recording it.
    inject(emulator, action="GetFunction", latencyMs=3000, count=2)
    doomed_task = asyncio.create_task(
        deploy(client, "blame", {**BASE_CONFIG, "timeout": 42}, base=1, strategy="use-local")
    )
    for _ in range(200):
        await asyncio.sleep(0.05)
        # ListFunctions: the injected latency is on GetFunction.
        if await asyncio.to_thread(listed_timeout, fc, "blame") == 42:
            break
    doomed_task.cancel()
    await asyncio.gather(doomed_task, return_exceptions=True)
    doomed = (await client.get("/v1/accounts/local/functions/blame")).json()["deploying"]
    await _expire_claim(app, "blame")
    check = (await client.post("/v1/accounts/local/functions/blame/drift-check")).json()
    assert check["interrupted_deployment"] == doomed
    [event] = await _drift_events(client, "blame")
    assert event["id"] == opened["id"]
    assert event["deployment_id"] == doomed


# -- point 6: idempotency as Stripe and the IETF draft do it --------------------


async def test_same_key_same_body_replays_the_first_result(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "idem")
    body = {"config": {**BASE_CONFIG, "timeout": 7}, "base_revision": 1}
    headers = {"Idempotency-Key": "ci-run-1"}
    first = await client.post(
        "/v1/accounts/local/functions/idem/deployments", json=body, headers=headers
    )
    again = await client.post(
        "/v1/accounts/local/functions/idem/deployments", json=body, headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    revisions = (await client.get("/v1/accounts/local/functions/idem/revisions")).json()["items"]
    assert [r["number"] for r in revisions] == [2, 1]


async def test_same_key_different_body_is_refused(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "reuse")
    headers = {"Idempotency-Key": "ci-run-2"}
    first = await client.post(
        "/v1/accounts/local/functions/reuse/deployments",
        json={"config": {**BASE_CONFIG, "timeout": 7}, "base_revision": 1},
        headers=headers,
    )
    assert first.status_code == 201
    other = await client.post(
        "/v1/accounts/local/functions/reuse/deployments",
        json={"config": {**BASE_CONFIG, "timeout": 8}, "base_revision": 1},
        headers=headers,
    )
    assert other.status_code == 422
    problem = other.json()
    assert problem["code"] == "idempotency_key_reused"
    assert problem["field"] == "Idempotency-Key"
    assert problem["deployment_id"] == first.json()["id"]
    assert live(fc, "reuse").timeout == 7


async def test_a_refusal_is_replayed_too(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "norep")
    sdk_update(fc, "norep", timeout=20)
    body = {"config": {**BASE_CONFIG, "memorySize": 1024}, "base_revision": 1}
    headers = {"Idempotency-Key": "ci-run-3"}
    first = await client.post(
        "/v1/accounts/local/functions/norep/deployments", json=body, headers=headers
    )
    again = await client.post(
        "/v1/accounts/local/functions/norep/deployments", json=body, headers=headers
    )
    assert first.status_code == again.status_code == 409
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["code"] == first.json()["code"] == "drift_conflict"
    assert again.json()["plan"] == first.json()["plan"]
