"""Deploy and drift outcomes reach the webhook outbox in the same transaction."""

from __future__ import annotations

import httpx
from alibabacloud_fc20230330.client import Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.emulator.server import EmbeddedEmulator
from service.models import WebhookEvent
from service.webhooks.catalog import EVENTS
from service.webhooks.payloads import EVENT_DATA
from service.webhooks.schemas import EventType
from tests.deploys.conftest import BASE_CONFIG, deploy, first_deploy, sdk_update
from tests.fc import ADMIN_HEADERS


async def _events(engine: AsyncEngine, function: str) -> list[WebhookEvent]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(WebhookEvent).where(WebhookEvent.function == function).order_by(WebhookEvent.seq)
        )
        return list(rows.all())  # type: ignore[arg-type]


async def test_outcomes_become_events_in_order(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    engine: AsyncEngine,
    emulator: EmbeddedEmulator,
) -> None:
    await first_deploy(client, "ev")
    sdk_update(fc, "ev", timeout=20)
    assert (
        await deploy(client, "ev", {**BASE_CONFIG, "memorySize": 1024}, base=1)
    ).status_code == 409
    assert (await client.post("/v1/accounts/local/functions/ev/drift-check")).json()[
        "drifted"
    ] is True
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"action": "UpdateFunction", "status": 500},
        headers=ADMIN_HEADERS,
    ).raise_for_status()
    assert (
        await deploy(client, "ev", {**BASE_CONFIG, "memorySize": 1024}, base=1, strategy="merge")
    ).status_code == 502
    merged = await deploy(
        client, "ev", {**BASE_CONFIG, "memorySize": 1024}, base=1, strategy="merge"
    )
    assert merged.status_code == 201

    events = await _events(engine, "ev")
    # The refused deploy saw the console edit: it records the drift (opened)
    # in the transaction that records the refusal; the drift check after it
    # finds the same drift and adds nothing.
    assert [e.type for e in events] == [
        "deploy.succeeded",
        "drift.opened",
        "deploy.conflict",
        "deploy.failed",
        "drift.resolved",
        "deploy.succeeded",
    ]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    opened, conflict, failed, resolved = events[1], events[2], events[3], events[4]
    assert resolved.payload["resolved_by_deployment_id"] == merged.json()["id"]
    assert {"path": "/timeout", "base": 3, "value": 20} in conflict.payload["remote_changes"]
    assert opened.payload["changes"] == [{"path": "/timeout", "base": 3, "value": 20}]
    assert failed.payload["error"]["status"] == 502
    last = events[-1]
    assert last.actor == "bootstrap"
    assert last.resource == f"/v1/deployments/{merged.json()['id']}"
    assert {"path": "/memorySize", "base": 512, "value": 1024} in last.payload["changes"]
    # What the OpenAPI document promises a receiver is what it gets.
    for event in events:
        assert set(event.payload) == set(EVENTS[EventType(event.type)].data), event.type
        EVENT_DATA[EventType(event.type)].model_validate(event.payload)
