"""A cancel is enforced within seconds even when heartbeats are far apart."""

from __future__ import annotations

import time

import httpx
import pytest

from service.kit.settings import Settings
from tests.jobs.conftest import submit, wait_for


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"job_heartbeat_seconds": 10, "job_lease_seconds": 60, "job_sweep_seconds": 10}
    )


async def test_a_kind_that_never_checks_is_interrupted_after_the_grace(
    client: httpx.AsyncClient, deployed: str
) -> None:
    job = await submit(client, invocations=100, sleep_s=0.2, ignore_cancel=True)
    await wait_for(client, job["id"], "running", progressed=True)
    asked = time.monotonic()
    await client.post(f"/v1/jobs/{job['id']}/cancel")
    cancelled = await wait_for(client, job["id"], "cancelled", timeout=8)
    assert time.monotonic() - asked < 5  # 1 s watch + 0.5 s grace + slack for a busy machine
    assert "interrupted" in cancelled["error"]
