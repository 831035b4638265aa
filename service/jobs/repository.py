"""All SQL of the jobs domain.

State changes of a job are conditional updates (``WHERE status = ... AND
lease_owner = ...``): two workers, a worker and the sweeper, or a worker and a
cancel request can race on one row, and exactly one of them wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from service.jobs.schemas import JobStatus
from service.kit.leases import expired_sql
from service.kit.repository import Repository
from service.models import Account, Function, Job, JobArtifact, JobReport

RUNNING = JobStatus.RUNNING.value
QUEUED = JobStatus.QUEUED.value


def _with_target() -> Select[Job]:
    """Jobs with their account and, when they have one, their function."""
    return (
        select(Job)
        .join(Account, Account.id == Job.account_id)
        .outerjoin(Function, Function.id == Job.function_id)
        .options(contains_eager(Job.account), contains_eager(Job.function))
        .execution_options(populate_existing=True)
    )


def _presentable() -> Select[Job]:
    """Jobs with what presenting them needs: account, function name, report names."""
    return _with_target().options(
        selectinload(Job.reports).load_only(JobReport.job_id, JobReport.name)
    )


class JobRepository(Repository[Job]):
    model = Job

    async def presentable(self, job_id: str) -> Job | None:
        return await self.session.scalar(_presentable().where(Job.id == job_id))

    async def page(
        self,
        kind: str | None,
        status: str | None,
        account: str | None,
        function: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Job]:
        """Newest first; ``after`` is the (created_at, id) of the last job already seen."""
        query = _presentable().order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
        if account is not None:
            query = query.where(Account.alias == account)
        if kind is not None:
            query = query.where(Job.kind == kind)
        if status is not None:
            query = query.where(Job.status == status)
        if function is not None:
            query = query.where(Function.name == function)
        if after is not None:
            created, job_id = after
            query = query.where(
                or_(Job.created_at < created, and_(Job.created_at == created, Job.id < job_id))
            )
        return list((await self.session.scalars(query)).all())

    async def with_function(self, job_id: str) -> Job | None:
        """The job with its account and function (for workers: no reports loaded)."""
        job = await self.session.scalar(_with_target().where(Job.id == job_id))
        if job is not None and job.function is not None:
            # The function's account is the job's: loaded once, shared.
            set_committed_value(job.function, "account", job.account)
        return job

    async def report(self, job_id: str, name: str) -> str | None:
        return await self.session.scalar(
            select(JobReport.content).where(JobReport.job_id == job_id, JobReport.name == name)
        )

    async def put_reports(self, job_id: str, reports: dict[str, str]) -> None:
        # Replace, so a job that runs twice leaves one set of reports.
        await self.session.execute(delete(JobReport).where(JobReport.job_id == job_id))
        for name, content in reports.items():
            self.session.add(JobReport(job_id=job_id, name=name, content=content))
        await self.session.flush()

    async def put_artifacts(self, job_id: str, artifacts: dict[str, tuple[str, bytes]]) -> None:
        """Replace the job's artifacts with ``name -> (media type, content)``."""
        await self.session.execute(delete(JobArtifact).where(JobArtifact.job_id == job_id))
        for name, (media_type, content) in artifacts.items():
            self.session.add(
                JobArtifact(job_id=job_id, name=name, media_type=media_type, content=content)
            )
        await self.session.flush()

    async def artifact_index(self, job_id: str) -> list[tuple[str, str, int]]:
        rows = await self.session.execute(
            select(JobArtifact.name, JobArtifact.media_type, func.length(JobArtifact.content))
            .where(JobArtifact.job_id == job_id)
            .order_by(JobArtifact.name)
        )
        return [(name, media, int(size or 0)) for name, media, size in rows]

    async def artifact(self, job_id: str, name: str) -> JobArtifact | None:
        return await self.session.scalar(
            select(JobArtifact).where(JobArtifact.job_id == job_id, JobArtifact.name == name)
        )

    async def snapshot(self, job_id: str) -> dict[str, Any] | None:
        row = (
            await self.session.execute(
                select(Job.status, Job.progress, Job.progress_note, Job.live).where(
                    Job.id == job_id
                )
            )
        ).first()
        if row is None:
            return None
        status, progress, note, live = row
        return {"status": status, "progress": progress, "progress_note": note, "live": live}

    async def _transition(self, job_id: str, conditions: Iterable[Any], **values: Any) -> bool:
        changed = await self.session.scalar(
            update(Job)
            .where(Job.id == job_id, *conditions)
            .values(**values)
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        )
        return changed is not None

    async def claim(self, job_id: str, owner: str, now: datetime, lease_until: datetime) -> bool:
        """queued → running for ``owner``; False when someone else has it or it is over."""
        return await self._transition(
            job_id,
            [Job.status == QUEUED],
            status=RUNNING,
            lease_owner=owner,
            lease_expires_at=lease_until,
            attempts=Job.attempts + 1,
            started_at=now,
        )

    async def renew(self, job_id: str, owner: str, lease_until: datetime) -> bool:
        """Extend the lease; False when it was lost (swept, cancelled, function removed)."""
        return await self._transition(
            job_id,
            [Job.status == RUNNING, Job.lease_owner == owner],
            lease_expires_at=lease_until,
        )

    async def request_id(self, job_id: str) -> str | None:
        return await self.session.scalar(select(Job.request_id).where(Job.id == job_id))

    async def cancel_requested(self, job_id: str) -> bool:
        requested = await self.session.scalar(
            select(Job.cancel_requested_at).where(Job.id == job_id)
        )
        return requested is not None

    async def set_progress(
        self,
        job_id: str,
        owner: str,
        progress: float,
        note: str,
        live: dict[str, Any] | None = None,
    ) -> None:
        """``live`` None keeps the figures written last (a note-only update)."""
        values: dict[str, Any] = {"progress": progress, "progress_note": note[:300]}
        if live is not None:
            values["live"] = live
        await self._transition(job_id, [Job.status == RUNNING, Job.lease_owner == owner], **values)

    async def finish(
        self,
        job_id: str,
        owner: str | None,
        status: JobStatus,
        now: datetime,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        """running (held by ``owner``) or, with owner None, queued → a final status."""
        held = (
            [Job.status == RUNNING, Job.lease_owner == owner]
            if owner is not None
            else [Job.status == QUEUED]
        )
        values: dict[str, Any] = {
            "status": status.value,
            "finished_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "result": result,
            "error": error,
        }
        if status is JobStatus.SUCCEEDED:
            values["progress"] = 1.0
        return await self._transition(job_id, held, **values)

    async def release(self, job_id: str, owner: str, now: datetime) -> bool:
        """Give a job back to the queue without counting the attempt (orderly shutdown)."""
        return await self._transition(
            job_id,
            [Job.status == RUNNING, Job.lease_owner == owner],
            status=QUEUED,
            lease_owner=None,
            lease_expires_at=None,
            attempts=Job.attempts - 1,
            queued_at=now,
        )

    async def request_cancel(self, job_id: str, now: datetime) -> bool:
        return await self._transition(
            job_id,
            [Job.status == RUNNING, Job.cancel_requested_at.is_(None)],
            cancel_requested_at=now,
        )

    async def expired(self, now: datetime, limit: int) -> list[Job]:
        rows = await self.session.scalars(
            select(Job)
            .where(Job.status == RUNNING, expired_sql(Job.lease_expires_at, now))
            .order_by(Job.lease_expires_at)
            .limit(limit)
        )
        return list(rows)

    async def requeue_expired(self, job: Job, now: datetime) -> bool:
        return await self._transition(
            job.id,
            [
                Job.status == RUNNING,
                Job.lease_owner == job.lease_owner,
                expired_sql(Job.lease_expires_at, now),
            ],
            status=QUEUED,
            lease_owner=None,
            lease_expires_at=None,
            queued_at=now,
            error=f"attempt {job.attempts}: its worker stopped responding (lease expired)",
        )

    async def end_expired(self, job: Job, now: datetime, status: JobStatus, error: str) -> bool:
        return await self._transition(
            job.id,
            [
                Job.status == RUNNING,
                Job.lease_owner == job.lease_owner,
                expired_sql(Job.lease_expires_at, now),
            ],
            status=status.value,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            error=error,
        )

    async def stale_queued(self, before: datetime, limit: int) -> list[str]:
        rows = await self.session.scalars(
            select(Job.id)
            .where(Job.status == QUEUED, Job.queued_at < before)
            .order_by(Job.created_at)
            .limit(limit)
        )
        return list(rows)

    async def touch_queued(self, job_ids: Sequence[str], now: datetime) -> None:
        if job_ids:
            await self.session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.status == QUEUED)
                .values(queued_at=now)
                .execution_options(synchronize_session=False)
            )

    async def stuck_cancels(self, before: datetime, limit: int) -> list[Job]:
        """Running jobs whose cancel was requested before ``before`` and that still run."""
        rows = await self.session.scalars(
            select(Job).where(Job.status == RUNNING, Job.cancel_requested_at < before).limit(limit)
        )
        return list(rows)
