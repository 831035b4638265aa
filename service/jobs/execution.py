"""Running one attempt of a job (the sweeper, service.jobs.sweeper, cleans up after
workers that died).

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
from service.jobs.contract import (
    Artifact,
    JobCancelled,
    JobContext,
    JobKind,
    JobOutcome,
    needs_function,
)
from service.jobs.facts import trigger_facts
from service.jobs.kinds import KINDS
from service.jobs.repository import JobRepository
from service.jobs.schemas import JobStatus
from service.jobs.service import SUMMARY_REPORT, Target, announce_finished, target_of
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import DomainError
from service.kit.request_id import bound_request_id
from service.kit.settings import Settings
from service.models.base import utcnow

log = logging.getLogger(__name__)

# Progress (and live figures) is written at most this often (the latest value
# always lands at the next heartbeat), and a cancel request is read at most this often.
PROGRESS_WRITE_SECONDS = 1.0
CANCEL_READ_SECONDS = 0.5
# How often the supervisor of a running job looks for a cancel request.
WATCH_SECONDS = 1.0
_REPORT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
Artifacts = dict[str, tuple[str, bytes]]

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
        if live is None and self._pending is not None:
            # A note-only update must not drop live figures not yet written (writes
            # are throttled): "done" after the last second of a stress run keeps it.
            live = self._pending[2]
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
        artifacts: Artifacts | None = None,
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
            if artifacts:
                await repo.put_artifacts(self.job_id, artifacts)
            await announce_finished(
                session,
                self.job_id,
                None,
                self.deps.settings,
                report=bool(reports and SUMMARY_REPORT in reports),
            )
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
) -> tuple[dict[str, Any], dict[str, str], Artifacts]:
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
    artifacts: Artifacts = {}
    for name, artifact in outcome.artifacts.items():
        if not _ARTIFACT_NAME.match(name) or not isinstance(artifact, Artifact):
            raise ValueError(f"invalid artifact {name!r}")
        artifacts[name] = (artifact.media_type, bytes(artifact.content))
    return result, reports, artifacts


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
    """Run one attempt of a job; None when it was not this caller's to run.

    The attempt runs under the request id of the request that submitted the job, so its
    log lines (and the webhook deliveries it causes) lead back to that request.
    """
    now = utcnow()
    async with deps.db.write() as session:
        repo = JobRepository(session)
        if not await repo.claim(job_id, owner, now, now + deps.lease):
            return None
        request_id = await repo.request_id(job_id)
    with bound_request_id(request_id):
        return await _execute(deps, job_id, owner)


async def _execute(deps: JobDeps, job_id: str, owner: str) -> JobStatus | None:
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
    artifacts: Artifacts | None = None
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
            result, reports, artifacts = _checked(task.result(), result_model)
            status, error = JobStatus.SUCCEEDED, None
        except (TypeError, ValueError) as exc:
            log.error("job %s returned an unusable outcome", job_id, exc_info=exc)
            status, result, error, reports = (
                JobStatus.FAILED,
                None,
                f"the job kind returned an unusable outcome ({exc})",
                None,
            )
    finished = await attempt.finish(
        status, result=result, error=error, reports=reports, artifacts=artifacts
    )
    log.info("job %s %s", job_id, status.value if finished else "dropped (lease lost)")
    return status if finished else None
