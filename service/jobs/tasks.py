"""Jobs on arq: the job function, the sweeper cron, and the queue the API enqueues to."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any, cast

from arq.constants import abort_jobs_ss
from arq.utils import timestamp_ms

from service.jobs.context import WorkerContext
from service.jobs.execution import JobDeps, execute
from service.jobs.sweeper import sweep

log = logging.getLogger(__name__)

RUN_JOB = "run_job"
_ARQ_OWNER = "arq:"


def _deps(ctx: WorkerContext) -> JobDeps:
    return JobDeps(ctx["settings"], ctx["db"], ctx["secret_box"], ctx["gateway"])


class ArqQueue:
    """Enqueues job ids for `fcplane worker`; the row in the database is the truth."""

    def __init__(self, redis: Any, queue_name: str) -> None:  # redis: an arq ArqRedis
        self.redis = redis
        self.queue_name = queue_name

    async def enqueue(self, job_id: str, *, again: bool = False) -> None:
        # The first delivery uses the job id itself, so enqueueing twice is a
        # no-op; a re-delivery gets a fresh arq id (the old one may be stuck
        # as "in progress" on a dead worker).
        arq_id = f"{job_id}.{uuid.uuid4().hex[:8]}" if again else job_id
        await self.redis.enqueue_job(RUN_JOB, job_id, _job_id=arq_id, _queue_name=self.queue_name)

    async def enqueue_again(self, job_id: str) -> None:
        await self.enqueue(job_id, again=True)

    async def abort(self, owner: str) -> None:
        """Ask the worker running an attempt to cancel it (arq's abort)."""
        if owner.startswith(_ARQ_OWNER):
            arq_id = owner[len(_ARQ_OWNER) :].rsplit("@", 1)[0]
            await self.redis.zadd(abort_jobs_ss, {arq_id: timestamp_ms()})


async def run_job(ctx: WorkerContext, job_id: str) -> str | None:
    """Run one attempt of a job (arq); does nothing if the job is not queued."""
    raw = cast(dict[str, Any], ctx)
    owner = (
        f"{_ARQ_OWNER}{raw.get('job_id', uuid.uuid4().hex)}@{socket.gethostname()}:{os.getpid()}"
    )
    status = await execute(_deps(ctx), job_id, owner)
    return status.value if status is not None else None


async def sweep_jobs(ctx: WorkerContext) -> dict[str, list[str]]:
    """Retry or fail jobs whose worker died; re-deliver jobs the queue lost (arq cron)."""
    queue = ArqQueue(cast(dict[str, Any], ctx)["redis"], ctx["settings"].redis_queue_name)
    return await sweep(
        _deps(ctx),
        queue.enqueue_again,
        stale_after=ctx["settings"].job_lease_seconds,
        abort=queue.abort,
    )
