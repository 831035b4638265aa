"""The arq worker process (`fcplane worker`)."""

from __future__ import annotations

from typing import Any, cast

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from service.auth.tasks import purge_stale_tokens
from service.kit.db import create_engine, create_sessionmaker
from service.kit.settings import Settings

# arq types ctx as a plain dict; our jobs take the WorkerContext TypedDict that
# startup() fills, hence the casts at this one registration point.
FUNCTIONS: list[Any] = [purge_stale_tokens]
CRON_JOBS = [cron(cast(Any, purge_stale_tokens), hour={3}, minute={17}, run_at_startup=False)]


def create_worker(settings: Settings, *, burst: bool = False) -> Worker:
    if not settings.redis_url:
        raise ValueError("FCPLANE_REDIS_URL is not set: without Redis, jobs run inside the API")

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(settings.resolved_database_url)
        ctx.update(settings=settings, engine=engine, sessions=create_sessionmaker(engine))

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "engine" in ctx:
            await ctx["engine"].dispose()

    return Worker(
        functions=FUNCTIONS,
        cron_jobs=CRON_JOBS,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=not burst,
    )
