"""The arq worker process (`fcplane worker`)."""

from __future__ import annotations

from typing import Any, cast

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from service.auth.tasks import purge_stale_tokens
from service.cloud.gateway import FcGateway
from service.drift.tasks import scan_drift
from service.kit.crypto import SecretBox, configured_key
from service.kit.db import create_engine, create_sessionmaker
from service.kit.settings import Settings
from service.webhooks.tasks import JOB_BUDGET_SECONDS, dispatch_webhooks

# arq types ctx as a plain dict; our jobs take the WorkerContext TypedDict that
# startup() fills, hence the casts at this one registration point.
FUNCTIONS: list[Any] = [purge_stale_tokens, dispatch_webhooks, scan_drift]
CRON_JOBS = [
    cron(cast(Any, purge_stale_tokens), hour={3}, minute={17}, run_at_startup=False),
]
# Every second: a run ends as soon as nothing is due, so an idle worker costs
# one cheap query a second; unique=True lets one worker per tick run it. A
# burst worker (which stops once its queue is empty) leaves these out, as
# their next tick is always queued; enqueue the job instead.
POLLING_CRON_JOBS = [
    cron(
        cast(Any, dispatch_webhooks),
        second=None,
        run_at_startup=True,
        timeout=JOB_BUDGET_SECONDS + 30,
    ),
]


def _drift_schedule(settings: Settings) -> list[Any]:
    interval_min = int(settings.drift_scan_interval_seconds // 60)
    if settings.drift_scan_interval_seconds <= 0:
        return []
    # arq schedules by clock fields; an interval becomes "every N minutes".
    minutes = set(range(0, 60, max(1, min(interval_min, 60))))
    return [cron(cast(Any, scan_drift), minute=minutes, run_at_startup=False, unique=True)]


def create_worker(settings: Settings, *, burst: bool = False) -> Worker:
    if not settings.redis_url:
        raise ValueError("FCPLANE_REDIS_URL is not set: without Redis, jobs run inside the API")

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(settings.resolved_database_url)
        key = settings.secret_key.get_secret_value() if settings.secret_key else None
        ctx.update(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            secret_box=SecretBox(configured_key(key, settings.data_dir)),
            gateway=FcGateway(),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "engine" in ctx:
            await ctx["engine"].dispose()

    return Worker(
        functions=FUNCTIONS,
        cron_jobs=CRON_JOBS + ([] if burst else POLLING_CRON_JOBS) + _drift_schedule(settings),
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=not burst,
    )
