"""Running one attempt of a job, and sweeping up after workers that died.

The same code runs in an arq worker (service.jobs.tasks) and inside the API
when there is no Redis (service.jobs.runner). An attempt starts by claiming
the queued row; whoever loses that race does nothing, which is what makes a
job safe to deliver twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from service.cloud.gateway import FcGateway
from service.jobs.contract import JobCancelled, JobContext, JobKind, JobOutcome, needs_function
from service.jobs.facts import trigger_facts
from service.jobs.kinds import KINDS
from service.jobs.repository import JobRepository
from service.jobs.schemas import JobStatus
from service.jobs.service import Target, announce_finished, target_of
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import DomainError
from service.kit.settings import Settings
from service.models.base import utcnow

log = logging.getLogger(__name__)

# Progress is written at most this often (the latest value always lands at
# the next heartbeat), and a cancel request is read at most this often.
PROGRESS_WRITE_SECONDS = 0.5
CANCEL_READ_SECONDS = 0.5
# How often the supervisor of a running job looks for a cancel request.
WATCH_SECONDS = 1.0
_REPORT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")

Enqueue = Callable[[str], Awaitable[None]]
Abort = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class JobDeps:
    """What running jobs needs; built from the app state or from arq's ctx."""

    settings: Settings
    db: Database
    secret_box: SecretBox
    gateway: FcGateway

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.job_lease_seconds)

    @property
    def heartbeat_seconds(self) -> float:
        return min(self.settings.job_heartbeat_seconds, self.settings.job_lease_seconds / 3)


class _Attempt:
    """One claimed attempt: its lease, progress and cancel flag."""

    def __init__(self, deps: JobDeps, job_id: str, owner: str) -> None:
        self.deps = deps
        self.job_id = job_id
        self.owner = owner
        self.cancel_seen = False
        self._pending: tuple[float, str, dict[str, Any] | None] | None = None
        self._progress_written = 0.0
        self._cancel_read = 0.0

    async def progress(
        self, fraction: float, note: str, live: dict[str, Any] | None = None
    ) -> None:
        self._pending = (min(max(float(fraction), 0.0), 1.0), str(note), live)
        if time.monotonic() - self._progress_written >= PROGRESS_WRITE_SECONDS:
            await self._write_progress()

    async def _write_progress(self) -> None:
        if self._pending is None:
            return
        fraction, note, live = self._pending
        self._pending = None
        self._progress_written = time.monotonic()
        async with self.deps.db.write() as session:
            await JobRepository(session).set_progress(self.job_id, self.owner, fraction, note, live)

    async def cancel_requested(self) -> bool:
        if not self.cancel_seen and time.monotonic() - self._cancel_read >= CANCEL_READ_SECONDS:
            self._cancel_read = time.monotonic()
            async with self.deps.db.read() as session:
                self.cancel_seen = await JobRepository(session).cancel_requested(self.job_id)
        return self.cancel_seen

    async def check_cancelled(self) -> None:
        if await self.cancel_requested():
            raise JobCancelled(f"job {self.job_id} was cancelled")

    async def heartbeat(self) -> bool:
        """Renew the lease and read the cancel flag; False once the lease is lost."""
        async with self.deps.db.write() as session:
            repo = JobRepository(session)
            alive = await repo.renew(self.job_id, self.owner, utcnow() + self.deps.lease)
            if alive and not self.cancel_seen:
                self.cancel_seen = await repo.cancel_requested(self.job_id)
        if alive:
            await self._write_progress()
        return alive

    async def finish(
        self,
        status: JobStatus,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        reports: dict[str, str] | None = None,
    ) -> bool:
        async with self.deps.db.write() as session:
            repo = JobRepository(session)
            if self._pending is not None:
                fraction, note, live = self._pending
                await repo.set_progress(self.job_id, self.owner, fraction, note, live)
            if not await repo.finish(
                self.job_id, self.owner, status, utcnow(), result=result, error=error
            ):
                log.warning("job %s: lease lost before it finished; result dropped", self.job_id)
                return False
            if reports:
                await repo.put_reports(self.job_id, reports)
            await announce_finished(session, self.job_id, None)
        return True

    async def release(self) -> None:
        async with self.deps.db.write() as session:
            await JobRepository(session).release(self.job_id, self.owner, utcnow())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return f"{exc.code}: {exc.detail}"
    # Other exception texts may carry anything (SDK responses, SQL); they go
    # to the worker's log only.
    return f"internal error ({type(exc).__name__}); see the worker log"


def _checked(
    outcome: object, result_model: type[BaseModel]
) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(outcome, JobOutcome) or not isinstance(outcome.result, dict):
        raise TypeError(f"a job kind returned {type(outcome).__name__}, not a JobOutcome")
    # What is stored is what the API documents for the kind (ValidationError is a ValueError).
    result: dict[str, Any] = result_model.model_validate(outcome.result).model_dump(mode="json")
    json.dumps(result, allow_nan=False)  # TypeError/ValueError when not JSON
    reports = {}
    for name, html in outcome.reports.items():
        if not _REPORT_NAME.match(name) or not isinstance(html, str):
            raise ValueError(f"invalid report {name!r}")
        reports[name] = html
    return result, reports


async def _prepare(
    deps: JobDeps, job_id: str
) -> tuple[str, JobKind | None, dict[str, Any], Target | None, str | None]:
    async with deps.db.read() as session:
        job = await JobRepository(session).with_function(job_id)
    if job is None:  # the job, or its function, was removed
        return "", None, {}, None, "the job disappeared"
    kind = KINDS.get(job.kind)
    if kind is None:
        return job.kind, None, job.params, None, f"job kind '{job.kind}' is not installed"
    if needs_function(kind) and job.function is None:
        return job.kind, None, job.params, None, "the job's function was removed"
    return job.kind, kind, job.params, target_of(job.account, job.function, deps.secret_box), None


async def execute(deps: JobDeps, job_id: str, owner: str) -> JobStatus | None:
    """Run one attempt of a job; None when it was not this caller's to run."""
    now = utcnow()
    async with deps.db.write() as session:
        if not await JobRepository(session).claim(job_id, owner, now, now + deps.lease):
            return None
    attempt = _Attempt(deps, job_id, owner)
    try:
        kind_name, kind, raw_params, target, problem = await _prepare(deps, job_id)
        if kind is None or target is None:
            await attempt.finish(JobStatus.FAILED, error=problem)
            return JobStatus.FAILED
        try:
            params: BaseModel = kind.params_model.model_validate(raw_params)
        except ValidationError:
            await attempt.finish(
                JobStatus.FAILED, error=f"params no longer valid for job kind '{kind_name}'"
            )
            return JobStatus.FAILED
        function = target.function.name if target.function is not None else None
        context = JobContext(
            job_id=job_id,
            function=function,
            access=target.access,
            gateway=deps.gateway,
            settings=deps.settings,
            progress=attempt.progress,
            check_cancelled=attempt.check_cancelled,
            cancel_requested=attempt.cancel_requested,
            facts=target.facts,
            db=deps.db,
        )
        if function is not None:
            target.facts.update(await trigger_facts(deps.gateway, target.access, function))
        log.info("job %s (%s) started by %s", job_id, kind_name, owner)
        running = asyncio.create_task(kind.run(context, params))
        return await _supervise(deps, attempt, running, kind.result_model)
    except asyncio.CancelledError:
        # Stopped from outside (worker shutdown, arq abort): a requested cancel
        # is honoured, anything else goes back to the queue uncounted.
        try:
            if await attempt.cancel_requested():
                await attempt.finish(JobStatus.CANCELLED, error="cancelled")
            else:
                await attempt.release()
        except Exception:  # the lease then expires and the sweeper takes over
            log.exception("job %s: could not record the interruption", job_id)
        raise


async def _supervise(
    deps: JobDeps,
    attempt: _Attempt,
    task: asyncio.Task[JobOutcome],
    result_model: type[BaseModel],
) -> JobStatus | None:
    """Heartbeat while the kind runs; enforce a cancel after the grace period.

    The cancel flag is read every second even when heartbeats are further
    apart, so a kind that never checks it is still stopped within the grace.
    """
    stop_by: float | None = None
    next_beat = time.monotonic() + deps.heartbeat_seconds
    try:
        while not task.done():
            wake = min(next_beat, time.monotonic() + WATCH_SECONDS)
            if stop_by is not None:
                wake = min(wake, stop_by)
            await asyncio.wait({task}, timeout=max(0.05, wake - time.monotonic()))
            if task.done():
                break
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + deps.heartbeat_seconds
                    if not await attempt.heartbeat():
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
                        log.warning("job %s: lease lost; attempt abandoned", attempt.job_id)
                        return None
                else:
                    await attempt.cancel_requested()
            except Exception:  # a database hiccup: try again before the lease runs out
                log.exception("job %s: heartbeat failed", attempt.job_id)
                continue
            if attempt.cancel_seen:
                if stop_by is None:
                    stop_by = time.monotonic() + deps.settings.job_cancel_grace_seconds
                if time.monotonic() >= stop_by:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    return await _record(attempt, task, result_model)


async def _record(
    attempt: _Attempt, task: asyncio.Task[JobOutcome], result_model: type[BaseModel]
) -> JobStatus | None:
    job_id = attempt.job_id
    if task.cancelled():
        status, result, reports = JobStatus.CANCELLED, None, None
        error = "cancelled (interrupted: it did not stop within the grace period)"
    elif isinstance(task.exception(), JobCancelled):
        status, result, error, reports = JobStatus.CANCELLED, None, "cancelled", None
    elif (exc := task.exception()) is not None:
        if not isinstance(exc, DomainError):
            log.error("job %s failed", job_id, exc_info=exc)
        status, result, error, reports = JobStatus.FAILED, None, _describe(exc), None
    else:
        try:
            result, reports = _checked(task.result(), result_model)
            status, error = JobStatus.SUCCEEDED, None
        except (TypeError, ValueError) as exc:
            log.error("job %s returned an unusable outcome", job_id, exc_info=exc)
            status, result, error, reports = (
                JobStatus.FAILED,
                None,
                f"the job kind returned an unusable outcome ({exc})",
                None,
            )
    finished = await attempt.finish(status, result=result, error=error, reports=reports)
    log.info("job %s %s", job_id, status.value if finished else "dropped (lease lost)")
    return status if finished else None


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
                    await announce_finished(session, job.id, None)
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
                    await announce_finished(session, job.id, None)
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
