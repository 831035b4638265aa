from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.jobs.kinds import unregister
from service.kit.settings import Settings
from service.models import WebhookEvent
from tests.deploys.conftest import emulator, fc, fc_account, first_deploy
from tests.jobs.kinds import NAME, install

__all__ = ["emulator", "fc", "fc_account"]

# Short enough that leases, sweeps and cancel grace play out within a test.
FAST_JOBS = {
    "job_lease_seconds": 1.5,
    "job_heartbeat_seconds": 0.2,
    "job_sweep_seconds": 0.3,
    "job_cancel_grace_seconds": 0.5,
    "job_max_concurrent": 1,
    "drift_scan_interval_seconds": 0,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST_JOBS)


@pytest.fixture(autouse=True)
def invoke_loop() -> Iterator[str]:
    install()
    yield NAME
    unregister(NAME)


@pytest.fixture
async def deployed(client: httpx.AsyncClient, fc_account: str) -> str:
    await first_deploy(client, "hello")
    return "hello"


async def submit(
    client: httpx.AsyncClient, function: str = "hello", **params: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/jobs", json={"kind": NAME, "function": function, "params": params}
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for(
    client: httpx.AsyncClient,
    job_id: str,
    *statuses: str,
    timeout: float = 20,
    progressed: bool = False,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in statuses and (not progressed or job["progress"] > 0):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job still {job['status']} after {timeout}s: {job}")
        await asyncio.sleep(0.05)


async def job_events(engine: AsyncEngine) -> list[WebhookEvent]:
    async with AsyncSession(engine) as session:
        rows = await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.type == "job.finished")
            .order_by(WebhookEvent.id)
        )
        return list(rows)
