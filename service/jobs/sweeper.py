"""Sweeping up after workers that died: retry or fail jobs whose lease expired,
enqueue again jobs that never reached a worker, abort attempts that ignore a cancel."""

from __future__ import annotations

import logging
from datetime import timedelta

from service.jobs.execution import Abort, Enqueue, JobDeps
from service.jobs.repository import JobRepository
from service.jobs.schemas import JobStatus
from service.jobs.service import announce_finished
from service.models.base import utcnow

log = logging.getLogger(__name__)


async def sweep(
    deps: JobDeps, enqueue: Enqueue, *, stale_after: float, abort: Abort | None = None
) -> dict[str, list[str]]:
    """Retry or fail jobs whose worker died; re-enqueue jobs that never reached one.

    ``stale_after``: seconds a job may wait in the queue before it is enqueued
    again (the queue may have lost it; a duplicate delivery is harmless).
    """
    settings = deps.settings
    now = utcnow()
    requeued: list[str] = []
    failed: list[str] = []
    async with deps.db.write() as session:
        repo = JobRepository(session)
        for job in await repo.expired(now, 100):
            if job.cancel_requested_at is not None:
                if await repo.end_expired(job, now, JobStatus.CANCELLED, "cancelled"):
                    await announce_finished(session, job.id, None, settings)
                    failed.append(job.id)
            elif job.attempts < settings.job_max_attempts:
                if await repo.requeue_expired(job, now):
                    requeued.append(job.id)
            else:
                error = (
                    f"its worker stopped responding (lease expired) on attempt {job.attempts} "
                    f"of {settings.job_max_attempts}; giving up"
                )
                if await repo.end_expired(job, now, JobStatus.FAILED, error):
                    await announce_finished(session, job.id, None, settings)
                    failed.append(job.id)
        stale = await repo.stale_queued(now - timedelta(seconds=stale_after), 100)
        await repo.touch_queued(stale, now)
        stuck: list[str] = []
        if abort is not None:
            grace = settings.job_cancel_grace_seconds + 2 * deps.heartbeat_seconds
            stuck = [
                job.lease_owner
                for job in await repo.stuck_cancels(now - timedelta(seconds=grace), 100)
                if job.lease_owner
            ]
    for job_id in [*requeued, *[s for s in stale if s not in requeued]]:
        await enqueue(job_id)
    if abort is not None:
        for owner in stuck:
            await abort(owner)
    if requeued or failed:
        log.warning("job sweeper: requeued %s, finished %s", requeued, failed)
    return {"requeued": requeued, "finished": failed, "enqueued": stale}
