"""Submitting, reading and cancelling jobs (the API side of the job system)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.functions.repository import FunctionRepository
from service.functions.service import FunctionService
from service.functions.state import config_of
from service.jobs.facts import trigger_facts
from service.jobs.kinds import KINDS
from service.jobs.repository import JobRepository
from service.jobs.schemas import JobCreate, JobOut, JobStatus
from service.kit.crypto import SecretBox
from service.kit.errors import Conflict, InvalidInput, NotFound
from service.kit.settings import Settings
from service.models import Function, Job
from service.models.base import utcnow
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType

SUMMARY_REPORT = "summary"


class InvalidParams(InvalidInput):
    """`params` broke the kind's params model: answered like any invalid body field."""

    code, title = "validation_error", "Invalid request"

    @classmethod
    def from_error(cls, exc: ValidationError) -> InvalidParams:
        # Never echo the offending input: it may carry a credential (headers).
        errors = [
            {
                "field": ".".join(["params", *(str(p) for p in err["loc"])]),
                "location": "body",
                "message": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors(include_input=False, include_url=False)
        ]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return cls(f"Invalid fields: {fields}", errors=errors)


class JobFinished(Conflict):
    code, title = "job_finished", "Job already finished"


class ReportNotFound(NotFound):
    code, title = "report_not_found", "Report not stored"


@dataclass
class Target:
    """The function a job works on, as the kinds see it."""

    function: Function
    access: FcAccess
    facts: dict[str, Any]


async def load_target(
    session: AsyncSession, box: SecretBox, gateway: FcGateway, name: str
) -> Target:
    functions = FunctionService(FunctionRepository(session), box, gateway)
    function, account = await functions.get(name)
    facts: dict[str, Any] = {
        "name": function.name,
        "account": account.alias,
        "account_id": account.account_id,
        "region": account.region,
        "endpoint": account.endpoint,
        "head_revision": function.head_revision,
        # The normalized FC config fcplane last applied (None: never deployed).
        "config": config_of(function.applied_state) if function.applied_state else None,
    }
    return Target(function=function, access=functions.access(account), facts=facts)


def present(job: Job, function: str, reports: list[str]) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        function=function,
        status=JobStatus(job.status),
        progress=job.progress,
        progress_note=job.progress_note,
        params=job.params,
        result=job.result,
        error=job.error,
        attempts=job.attempts,
        cancel_requested=job.cancel_requested_at is not None,
        reports=reports,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        created_by=job.created_by,
    )


async def announce_finished(session: AsyncSession, job_id: str, actor: str | None) -> None:
    """Emit job.finished in the transaction that finished the job."""
    found = await JobRepository(session).get(job_id)
    if found is None:
        return
    job, function = found
    payload: dict[str, Any] = {
        "job_id": job.id,
        "kind": job.kind,
        "status": job.status,
        "message": f"{job.kind} job {job.id} {job.status}",
        "attempts": job.attempts,
    }
    if job.error:
        payload["error"] = job.error
    if job.result and "recommendation" in job.result:
        payload["recommendation"] = job.result["recommendation"]
    await emit(
        session,
        EventType.JOB_FINISHED,
        function,
        payload,
        actor=actor or job.created_by,
        resource=f"/v1/jobs/{job.id}",
    )


class JobService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        gateway: FcGateway,
        settings: Settings,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.gateway = gateway
        self.settings = settings

    async def submit(self, request: JobCreate, author: str | None) -> JobOut:
        """Validate and record a queued job; the caller enqueues it once this has committed."""
        kind = KINDS.get(request.kind)
        if kind is None:
            available = ", ".join(sorted(KINDS)) or "none"
            raise InvalidInput(
                f"kind: unknown job kind '{request.kind}' (available: {available})", field="kind"
            )
        try:
            params = kind.params_model.model_validate(request.params)
        except ValidationError as exc:
            raise InvalidParams.from_error(exc) from None
        # Read and validate outside the write transaction: a kind's checks may
        # take a moment, and SQLite has a single writer.
        async with self.sessions() as session:
            target = await load_target(session, self.box, self.gateway, request.function)
            function_id = target.function.id
        target.facts.update(await trigger_facts(self.gateway, target.access, request.function))
        await kind.validate(params, target.facts, self.settings)
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind.name,
            function_id=function_id,
            status=JobStatus.QUEUED.value,
            params=params.model_dump(mode="json"),
            progress=0.0,
            attempts=0,
            created_by=author,
        )
        try:
            async with self.sessions.begin() as session:
                await JobRepository(session).add(job)
        except IntegrityError:  # the function was removed meanwhile
            raise NotFound(
                f"function '{request.function}' is not managed by fcplane",
                function=request.function,
            ) from None
        return present(job, request.function, [])

    async def get(self, job_id: str) -> JobOut:
        async with self.sessions() as session:
            repo = JobRepository(session)
            found = await repo.get(job_id)
            if found is None:
                raise NotFound(f"no job {job_id}")
            reports = await repo.report_names([job_id])
            return present(*found, reports.get(job_id, []))

    async def page(
        self,
        kind: str | None,
        status: JobStatus | None,
        function: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[JobOut]:
        async with self.sessions() as session:
            repo = JobRepository(session)
            rows = await repo.page(kind, status.value if status else None, function, after, limit)
            reports = await repo.report_names([job.id for job, _ in rows])
            return [present(job, name, reports.get(job.id, [])) for job, name in rows]

    async def cancel(self, job_id: str, actor: str | None) -> JobOut:
        """A queued job is cancelled at once; a running one is asked to stop."""
        now = utcnow()
        async with self.sessions.begin() as session:
            repo = JobRepository(session)
            if await repo.finish(job_id, None, JobStatus.CANCELLED, now):
                await announce_finished(session, job_id, actor)
            elif not await repo.request_cancel(job_id, now):
                found = await repo.get(job_id)
                if found is None:
                    raise NotFound(f"no job {job_id}")
                status = JobStatus(found[0].status)
                if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                    raise JobFinished(f"job {job_id} has already {status.value}", job_status=status)
        return await self.get(job_id)

    async def report(self, job_id: str, name: str) -> str:
        async with self.sessions() as session:
            repo = JobRepository(session)
            content = await repo.report(job_id, name)
            if content is None:
                if await repo.get(job_id) is None:
                    raise NotFound(f"no job {job_id}")
                raise ReportNotFound(f"job {job_id} has no {name} report (yet)")
        return content
