"""The arq worker process (`fcplane worker`)."""

from __future__ import annotations

import socket
from typing import Any, cast

from arq import cron
from arq.connections import RedisSettings
from arq.constants import health_check_key_suffix
from arq.worker import Worker, func
from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.auth.tasks import purge_stale_tokens
from service.cloud.gateway import FcGateway
from service.drift.tasks import scan_drift
from service.jobs.tasks import RUN_JOB, run_job, sweep_jobs
from service.kit.crypto import SecretBox, configured_key
from service.kit.db import Database
from service.kit.settings import Settings
from service.webhooks.tasks import JOB_BUDGET_SECONDS, dispatch_webhooks, purge_webhook_log

# A job's length is the kind's business (a stress test runs as long as asked);
# its lease and heartbeat, not arq's timeout, tell a live attempt from a dead one.
JOB_TIMEOUT_SECONDS = 7 * 86400
# arq rewrites its health-check key this often, with a lifetime one second
# longer: the key exists only while the worker's main loop keeps turning.
HEALTH_CHECK_SECONDS = 10
# arq types ctx as a plain dict; our jobs take the WorkerContext TypedDict that
# startup() fills, hence the casts at this one registration point.
FUNCTIONS: list[Any] = [
    purge_stale_tokens,
    dispatch_webhooks,
    purge_webhook_log,
    scan_drift,
    # max_tries=1: a job's retries are the sweeper's (bounded, recorded on the row).
    func(cast(Any, run_job), name=RUN_JOB, timeout=JOB_TIMEOUT_SECONDS, max_tries=1),
    sweep_jobs,
]
CRON_JOBS = [
    cron(cast(Any, purge_stale_tokens), hour={3}, minute={17}, run_at_startup=False),
    cron(cast(Any, purge_webhook_log), hour={3}, minute={47}, run_at_startup=False),
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


def _job_sweeps(settings: Settings) -> list[Any]:
    # arq schedules by clock fields: every N seconds below a minute, else every N minutes.
    seconds = max(1, int(settings.job_sweep_seconds))
    if seconds < 60:
        when: dict[str, Any] = {"second": set(range(0, 60, seconds))}
    else:
        when = {"minute": set(range(0, 60, min(seconds // 60, 60))), "second": {0}}
    # arq's id for a unique cron run is name + time; naming the queue keeps two
    # installations on one Redis from taking each other's ticks.
    name = "cron:sweep_jobs" + (
        "" if settings.redis_queue_name == "arq:queue" else "@" + settings.redis_queue_name
    )
    return [cron(cast(Any, sweep_jobs), name=name, run_at_startup=True, unique=True, **when)]


def health_check_key(queue_name: str, host: str | None = None) -> str:
    """arq's health-check key, one per host (a container's hostname is its own).

    arq's default key is one per queue: with several workers on a queue, any
    live one would keep a dead or stuck one looking healthy.
    """
    return f"{queue_name}{health_check_key_suffix}:{host or socket.gethostname()}"


async def check_health(settings: Settings) -> tuple[bool, str]:
    """Whether this host's worker recorded its health within the last interval, and why."""
    if not settings.redis_url:
        return False, "FCPLANE_REDIS_URL is not set"
    key = health_check_key(settings.redis_queue_name)
    redis: Redis = Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        record = await redis.get(key)
    except (RedisError, OSError) as exc:
        return False, f"Redis is not reachable ({type(exc).__name__}: {exc})"
    finally:
        await redis.aclose()
    if record is None:
        return False, (
            f"no health record at {key}: no worker has run on this host within the last "
            f"{HEALTH_CHECK_SECONDS + 1} s, or its main loop is stuck"
        )
    return True, record.decode(errors="replace")


def create_worker(settings: Settings, *, burst: bool = False) -> Worker:
    if not settings.redis_url:
        raise ValueError("FCPLANE_REDIS_URL is not set: without Redis, jobs run inside the API")

    async def startup(ctx: dict[str, Any]) -> None:
        key = settings.secret_key.get_secret_value() if settings.secret_key else None
        ctx.update(
            settings=settings,
            db=Database.connect(settings.resolved_database_url, settings.database_pool_size),
            secret_box=SecretBox(configured_key(key, settings.data_dir)),
            gateway=FcGateway(),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "db" in ctx:
            await ctx["db"].dispose()

    return Worker(
        functions=FUNCTIONS,
        cron_jobs=CRON_JOBS
        + ([] if burst else POLLING_CRON_JOBS + _job_sweeps(settings))
        + _drift_schedule(settings),
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        queue_name=settings.redis_queue_name,
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=not burst,
        allow_abort_jobs=True,
        health_check_interval=HEALTH_CHECK_SECONDS,
        health_check_key=health_check_key(settings.redis_queue_name),
    )
