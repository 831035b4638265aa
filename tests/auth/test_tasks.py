"""Token maintenance, through a real arq worker on Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.settings import Settings
from service.models import ApiToken
from service.worker import create_worker
from tests.conftest import REDIS_URL, token_with, unavailable


@pytest.mark.redis
async def test_worker_purges_only_long_stale_tokens(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    for name in ("old-revoked", "old-expired", "fresh-revoked", "alive"):
        await token_with(client, "read", name=name)
    long_ago = datetime.now(UTC) - timedelta(days=31)
    async with engine.begin() as conn:
        await conn.execute(
            update(ApiToken).where(ApiToken.name == "old-revoked").values(revoked_at=long_ago)
        )
        await conn.execute(
            update(ApiToken).where(ApiToken.name == "old-expired").values(expires_at=long_ago)
        )
        await conn.execute(
            update(ApiToken)
            .where(ApiToken.name == "fresh-revoked")
            .values(revoked_at=datetime.now(UTC))
        )
    # A queue of this test's own: other runs may share this Redis.
    queue = f"fcplane-test:{uuid.uuid4().hex}"
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    except OSError as exc:
        unavailable("Redis", str(exc))
    try:
        job = await pool.enqueue_job("purge_stale_tokens", _queue_name=queue)
        assert job is not None
        worker = create_worker(
            settings.model_copy(update={"redis_url": REDIS_URL, "redis_queue_name": queue}),
            burst=True,
        )
        try:
            await worker.main()
        finally:
            await worker.close()
        assert await job.result(timeout=5) == 2
    finally:
        await pool.aclose()
    async with engine.connect() as conn:
        names = set((await conn.execute(select(ApiToken.name))).scalars())
    assert names == {"bootstrap", "fresh-revoked", "alive"}
