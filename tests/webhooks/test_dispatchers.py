"""Several dispatchers at once (API replicas, workers) and the arq job on Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import cast

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.jobs.context import WorkerContext
from service.kit.crypto import SecretBox
from service.kit.db import Database, create_engine
from service.kit.settings import Settings
from service.models import WebhookDelivery, WebhookEvent
from service.models.base import utcnow
from service.models.function import FunctionRef
from service.webhooks.dispatcher import Dispatcher
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType, WebhookCreate
from service.webhooks.service import WebhookService
from service.webhooks.tasks import purge_webhook_log
from service.webhooks.transport import new_client
from service.worker import create_worker
from tests.conftest import REDIS_URL, TEST_SECRET_KEY, unavailable
from tests.webhooks import standard_webhooks
from tests.webhooks.receiver import Receiver, eventually

BOX = SecretBox(TEST_SECRET_KEY)
FUNCTIONS = ["f0", "f1", "f2", "f3", "f4"]


async def _subscribe(db: Database, settings: Settings, url: str) -> str:
    _, secret = await WebhookService(db, BOX, settings).create(
        WebhookCreate(url=url, events=[EventType.DEPLOY_SUCCEEDED]), "test"
    )
    assert secret is not None
    return secret


async def _emit_all(db: Database, per_function: int) -> None:
    for n in range(1, per_function + 1):
        async with db.write() as session:
            for function in FUNCTIONS:
                await emit(
                    session,
                    EventType.DEPLOY_SUCCEEDED,
                    FunctionRef("local", function),
                    {"revision": n},
                )


def _check_arrivals(receiver: Receiver, secret: str, per_function: int) -> None:
    order: dict[str, list[int]] = defaultdict(list)
    for request in receiver.received():
        standard_webhooks.verify(secret, request.headers, request.body)
        body = request.json()
        order[body["function"]].append(body["data"]["revision"])
    expected = list(range(1, per_function + 1))
    assert order == {f: expected for f in FUNCTIONS}


@pytest.fixture
async def replicas(settings: Settings, database_url: str) -> AsyncIterator[list[Dispatcher]]:
    """Four dispatchers, each with its own engine, as separate processes would be."""
    engines = [create_engine(database_url) for _ in range(4)]
    async with new_client() as client:
        yield [Dispatcher(settings, Database(e), BOX, client) for e in engines]
    for e in engines:
        await e.dispose()


async def test_concurrent_dispatchers_send_each_event_once_in_order(
    settings: Settings,
    db: Database,
    receiver: Receiver,
    replicas: list[Dispatcher],
) -> None:
    secret = await _subscribe(db, settings, receiver.url)
    await _emit_all(db, per_function=12)
    total = 12 * len(FUNCTIONS)

    async def work(dispatcher: Dispatcher) -> None:
        while len(receiver.received()) < total:
            if await dispatcher.run_once() == 0:
                await asyncio.sleep(0.005)

    await asyncio.wait_for(asyncio.gather(*(work(d) for d in replicas)), timeout=30)
    await asyncio.sleep(0.2)  # a double send would show up now
    assert len(receiver.received()) == total
    _check_arrivals(receiver, secret, 12)
    async with db.read() as session:
        rows = (
            await session.execute(select(WebhookDelivery.status, WebhookDelivery.attempts))
        ).all()
    assert {tuple(r) for r in rows} == {("delivered", 1)}


async def test_concurrent_emits_for_one_function_get_contiguous_sequence_numbers(
    settings: Settings, db: Database, database_url: str
) -> None:
    engines = [create_engine(database_url) for _ in range(8)]
    try:

        async def one(engine: AsyncEngine, n: int) -> None:
            async with Database(engine).write() as session:
                await emit(session, EventType.DRIFT_OPENED, FunctionRef("local", "hot"), {"n": n})
                await asyncio.sleep(0.01)  # hold the transaction open a little

        await asyncio.gather(*(one(e, n) for n, e in enumerate(engines * 3)))
    finally:
        for e in engines:
            await e.dispose()
    async with db.read() as session:
        seqs = sorted((await session.scalars(select(WebhookEvent.seq))).all())
    assert seqs == list(range(1, 25))


@pytest.mark.redis
async def test_arq_burst_worker_delivers(
    settings: Settings, db: Database, receiver: Receiver
) -> None:
    secret = await _subscribe(db, settings, receiver.url)
    await _emit_all(db, per_function=3)
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    except OSError as exc:
        unavailable("Redis", str(exc))
    try:
        # A queue of its own: a test suite running at the same time on the same
        # Redis must not take this job (and run it against its own database).
        queue = f"arq:test-webhooks-{uuid.uuid4().hex}"
        job = await pool.enqueue_job("dispatch_webhooks", _queue_name=queue)
        assert job is not None
        worker = create_worker(settings.model_copy(update={"redis_url": REDIS_URL}), burst=True)
        worker.queue_name = queue
        worker.health_check_key = f"{queue}:health-check"
        try:
            await worker.main()
        finally:
            await worker.close()
        assert await job.result(timeout=5) == 3 * len(FUNCTIONS)
    finally:
        await pool.aclose()
    await eventually(lambda: len(receiver.received()) == 3 * len(FUNCTIONS))
    _check_arrivals(receiver, secret, 3)


async def test_purge_keeps_recent_and_pending_events(settings: Settings, db: Database) -> None:
    await _subscribe(db, settings, "http://127.0.0.1:9/unused")
    async with db.write() as session:
        for n in range(3):
            await emit(session, EventType.DEPLOY_SUCCEEDED, FunctionRef("local", "f"), {"n": n})
    old = utcnow() - timedelta(days=settings.webhook_retention_days + 1)
    async with db.write() as session:
        await session.execute(
            update(WebhookEvent).where(WebhookEvent.seq < 3).values(created_at=old)
        )
        # seq 1 finished long ago; seq 2 is old but still pending; seq 3 is recent.
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.seq != 2).values(status="delivered")
        )
    context = cast(WorkerContext, {"settings": settings, "db": db})
    assert await purge_webhook_log(context) == 1
    async with db.read() as session:
        assert sorted((await session.scalars(select(WebhookEvent.seq))).all()) == [2, 3]
        assert sorted((await session.scalars(select(WebhookDelivery.seq))).all()) == [2, 3]
