"""Scheduled drift scans: in-process without Redis, and as a job on a real arq worker."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from alibabacloud_fc20230330.client import Client
from arq import create_pool
from arq.connections import RedisSettings

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.kit.settings import Settings
from service.worker import create_worker
from tests.conftest import REDIS_URL, unavailable
from tests.deploys.conftest import first_deploy, sdk_update
from tests.fc import inject, register_account


async def test_in_process_schedule_opens_drift_events(
    settings: Settings, fc: Client, emulator: EmbeddedEmulator, admin_token: str
) -> None:
    app = create_app(settings.model_copy(update={"drift_scan_interval_seconds": 0.2}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as http,
    ):
        await register_account(http, emulator)
        await first_deploy(http, "watched")
        sdk_update(fc, "watched", timeout=33)
        for _ in range(50):
            await asyncio.sleep(0.1)
            if (await http.get("/v1/accounts/local/functions/watched")).json()[
                "drift_status"
            ] == "drifted":
                break
        events = (await http.get("/v1/drift-events", params={"status": "open"})).json()
        assert [e["function"] for e in events["items"]] == ["watched"]
        assert events["items"][0]["changes"] == [{"path": "/timeout", "base": 3, "value": 33}]


@pytest.mark.redis
async def test_worker_scan_honours_throttling(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    emulator: EmbeddedEmulator,
    settings: Settings,
) -> None:
    for name in ("s1", "s2", "s3"):
        await first_deploy(client, name)
    sdk_update(fc, "s2", description="console edit")
    # FC throttles the first GetFunction calls; the gateway waits and retries.
    inject(emulator, action="GetFunction", status=429, count=2)
    # A queue of this test's own: other runs may share this Redis.
    queue = f"fcplane-test:{uuid.uuid4().hex}"
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    except OSError as exc:
        unavailable("Redis", str(exc))
    try:
        job = await pool.enqueue_job("scan_drift", _queue_name=queue)
        assert job is not None
        worker = create_worker(
            settings.model_copy(
                update={
                    "redis_url": REDIS_URL,
                    "drift_scan_interval_seconds": 0,
                    "redis_queue_name": queue,
                }
            ),
            burst=True,
        )
        try:
            await worker.main()
        finally:
            await worker.close()
        summary = await job.result(timeout=10)
    finally:
        await pool.aclose()
    assert summary == {"checked": 3, "drifted": ["local/s2"], "failed": {}}
    statuses = {
        f["name"]: f["drift_status"] for f in (await client.get("/v1/functions")).json()["items"]
    }
    assert statuses == {"s1": "in_sync", "s2": "drifted", "s3": "in_sync"}
