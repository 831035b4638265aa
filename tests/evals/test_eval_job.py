"""A spec eval submitted over the API and run by a real arq burst worker on the emulator:
the stored result carries intervals and a reasoned recommendation, the stored live figures
its steps, and the stored report its error bars."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.evals.schemas import EvalSpecResult
from service.kit.settings import Settings
from service.models import Job
from service.worker import create_worker
from tests.conftest import REDIS_URL, unavailable
from tests.deploys.conftest import first_deploy
from tests.fc import register_account, reset

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_settings(settings: Settings) -> Settings:
    # A queue of its own: test runs sharing this Redis cannot take each other's jobs.
    queue = f"fcplane-test:{uuid.uuid4().hex}"
    return settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_queue_name": queue, "drift_scan_interval_seconds": 0}
    )


@pytest.fixture
async def api(
    redis_settings: Settings, admin_token: str, emulator: EmbeddedEmulator
) -> AsyncIterator[httpx.AsyncClient]:
    """An API that queues jobs for workers (and runs none itself), with `hello` deployed."""
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    except OSError as exc:
        unavailable("Redis", str(exc))
    app = create_app(redis_settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://fcplane.test",
                headers={"Authorization": f"Bearer {admin_token}"},
            ) as http,
        ):
            await register_account(http, emulator)
            await first_deploy(http, "hello", cpu=0.5, memorySize=1024)
            yield http
    finally:
        await pool.delete(redis_settings.redis_queue_name)
        await pool.aclose()
        reset(emulator)  # the other eval tests expect an empty emulator


async def _burst(settings: Settings) -> None:
    worker = create_worker(settings, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()


async def test_spec_eval_job_on_a_worker(
    api: httpx.AsyncClient, redis_settings: Settings, engine: AsyncEngine
) -> None:
    specs = [{"cpu": 0.5, "memorySize": 1024}, {"cpu": 1, "memorySize": 2048}]
    response = await api.post(
        "/v1/jobs",
        json={
            "kind": "eval-spec",
            "function": "hello",
            "params": {"specs": specs, "invocations": 4, "warmup": 1, "strategy": "speed"},
        },
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    await _burst(redis_settings)

    job = (await api.get(f"/v1/jobs/{job_id}")).json()
    assert job["status"] == "succeeded", job
    result: dict[str, Any] = job["result"]
    EvalSpecResult.model_validate(result)
    assert result["price_model"]["currency"] == "USD"
    assert result["ci_method"].startswith("Student-t")
    assert result["timer_resolution_ms"] == 1.0
    for spec in result["specs"]:
        assert spec["errors"] == 0
        ci = spec["ci"]
        assert (ci["level"], ci["method"], ci["samples"]) == (0.95, "t", 4)
        assert ci["low"] <= spec["duration_ms"] <= ci["high"]
    rec = result["recommendation"]
    assert rec["reason"]
    assert rec["currency"] == "USD"
    # The live spec (0.5 vCPU / 1 GB) was measured, so the saving against it is known.
    assert isinstance(rec["saving_vs_live_pct"], float)
    assert rec["separation"]["memorySize"] in (1024, 2048)
    # `hello` returns a constant: a millisecond or two at either spec. Whether that is
    # within the timer's resolution is the machine's; the report must agree either way.
    if not rec["meaningful"]:
        assert (rec["cpu"], rec["memorySize"]) == (0.5, 1024)
        assert any("no meaningful pick" in w for w in result["warnings"])

    async with AsyncSession(engine) as session:
        live = await session.scalar(select(Job.live).where(Job.id == job_id))
    assert live is not None
    assert (live["step"], live["steps"]) == (2, 2)
    assert [(s["cpu"], s["memorySize"]) for s in live["partial"]] == [(0.5, 1024), (1.0, 2048)]

    report = await api.get(f"/v1/jobs/{job_id}/report")
    assert report.status_code == 200
    assert len(re.findall(r'class="error-bar"', report.text)) == 4  # two specs, two charts
    assert "Why:" in report.text
