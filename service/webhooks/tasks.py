"""The webhook dispatcher as an arq job (production) and as an in-process task (embedded)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from service.jobs.context import WorkerContext
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.settings import Settings
from service.models.base import utcnow
from service.webhooks.dispatcher import BackgroundDispatcher, Dispatcher
from service.webhooks.repository import OutboxRepository
from service.webhooks.transport import new_client

log = logging.getLogger(__name__)

# One run of the job delivers what is due for at most this long; the cron
# starts the next run every second, so a backlog never needs a long job.
JOB_BUDGET_SECONDS = 50.0
PURGE_EVERY_SECONDS = 3600.0


async def dispatch_webhooks(ctx: WorkerContext) -> int:
    """Deliver due webhooks (arq cron, every second); safe to run many at once."""
    settings = ctx["settings"]
    async with new_client() as client:
        dispatcher = Dispatcher(settings, ctx["db"], ctx["secret_box"], client)
        deadline = time.monotonic() + JOB_BUDGET_SECONDS
        sent = await dispatcher.pump(
            asyncio.Event(),
            settings.webhook_poll_seconds,
            lambda: time.monotonic() > deadline,
            until_idle=True,
        )
    if sent:
        log.info("webhook dispatcher made %d attempts", sent)
    return sent


async def _purge(settings: Settings, db: Database) -> int:
    cutoff = utcnow() - timedelta(days=settings.webhook_retention_days)
    async with db.write() as session:
        purged = await OutboxRepository(session).purge(cutoff)
    if purged:
        log.info(
            "purged %d webhook events older than %s days", purged, settings.webhook_retention_days
        )
    return purged


async def purge_webhook_log(ctx: WorkerContext) -> int:
    """Delete finished webhook events past FCPLANE_WEBHOOK_RETENTION_DAYS (daily cron)."""
    return await _purge(ctx["settings"], ctx["db"])


async def _purge_hourly(settings: Settings, db: Database) -> None:
    while True:
        try:
            await _purge(settings, db)
        except Exception as exc:  # the next hour will do
            log.warning("webhook log purge failed: %s", type(exc).__name__)
        await asyncio.sleep(PURGE_EVERY_SECONDS)


@asynccontextmanager
async def background_dispatcher(
    settings: Settings, db: Database, box: SecretBox
) -> AsyncIterator[BackgroundDispatcher]:
    """Run the dispatcher inside this process for as long as the context is open."""
    async with new_client() as client:
        runner = BackgroundDispatcher(
            Dispatcher(settings, db, box, client), settings.webhook_poll_seconds
        )
        runner.start()
        purger = asyncio.create_task(_purge_hourly(settings, db), name="webhook-purge")
        try:
            yield runner
        finally:
            purger.cancel()
            await runner.stop()
