"""Submitting, reading and cancelling jobs (the API side of the job system)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from service.accounts.repository import AccountRepository
from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.functions.repository import FunctionRepository
from service.functions.service import existing, not_managed
from service.functions.state import config_of
from service.jobs.contract import needs_function
from service.jobs.facts import trigger_facts
from service.jobs.headline import headline_of
from service.jobs.kinds import KINDS
from service.jobs.links import signed_report_url
from service.jobs.repository import JobRepository
from service.jobs.schemas import JobCreate, JobStatus
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import Conflict, InvalidInput, NotFound
from service.kit.request_id import current_request_id
from service.kit.settings import Settings
from service.models import Account, Function, Job, JobArtifact
from service.models.base import utcnow
from service.models.function import FunctionRef
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType

SUMMARY_REPORT = "summary"


class InvalidParams(InvalidInput):
    """`params` broke the kind's params model (or the kind's required `function` is
    missing): answered like any invalid body field."""

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

    @classmethod
    def missing(cls, field: str, why: str) -> InvalidParams:
        """A body field the kind requires (the body's schema leaves it optional)."""
        error = {"field": field, "location": "body", "message": f"Field required: {why}"}
        return cls(f"Invalid fields: {field}", errors=[{**error, "type": "missing"}])


class JobFinished(Conflict):
    code, title = "job_finished", "Job already finished"


class ReportNotFound(NotFound):
    code, title = "report_not_found", "Report not stored"


class ArtifactNotFound(NotFound):
    code, title = "artifact_not_found", "Artifact not stored"


@dataclass
class Target:
    """The account, and the function (None for a build), a job works on, as kinds see it."""

    account: Account
    function: Function | None
    access: FcAccess
    facts: dict[str, Any]


def target_of(account: Account, function: Function | None, box: SecretBox) -> Target:
    """``account``, and ``function`` of it, as a job's target."""
    facts: dict[str, Any] = {
        "account": account.alias,
        "account_id": account.account_id,
        "region": account.region,
        "endpoint": account.endpoint,
    }
    if function is not None:
        facts |= {
            "name": function.name,
            "head_revision": function.head_revision,
            # The normalized FC config fcplane last applied (None: never deployed).
            "config": config_of(function.applied_state) if function.applied_state else None,
        }
    return Target(account, function, access_for(box, account), facts)


async def announce_finished(
    session: AsyncSession,
    job_id: str,
    actor: str | None,
    settings: Settings,
    *,
    report: bool = False,
) -> None:
    """Emit job.finished in the transaction that finished the job: with a succeeded job's
    headline figures and, when it stored one (``report``; a build does not), a signed
    link to its report (FCPLANE_REPORT_LINK_TTL_SECONDS)."""
    job = await JobRepository(session).with_function(job_id)
    if job is None:
        return
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
    succeeded = job.status == JobStatus.SUCCEEDED.value
    if succeeded and (headline := headline_of(job.kind, job.result)) is not None:
        payload["headline"] = headline
    if succeeded and report:
        link = signed_report_url(settings, job.id, settings.report_link_ttl_seconds)
        payload["report_url"] = link.url
    await emit(
        session,
        EventType.JOB_FINISHED,
        job.function.ref if job.function is not None else None,
        payload,
        actor=actor or job.created_by,
        resource=f"/v1/jobs/{job.id}",
    )


async def _default_account(accounts: AccountRepository) -> str:
    account = await accounts.default()
    if account is None:
        raise InvalidInput(
            "account: no account given and there is no default account", field="account"
        )
    return account.alias


class JobService:
    def __init__(
        self, db: Database, box: SecretBox, gateway: FcGateway, settings: Settings
    ) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway
        self.settings = settings

    async def submit(self, request: JobCreate, author: str | None) -> Job:
        """Validate and record a queued job; the caller enqueues it once this has committed."""
        kind = KINDS.get(request.kind)
        if kind is None:
            available = ", ".join(sorted(KINDS)) or "none"
            raise InvalidInput(
                f"kind: unknown job kind '{request.kind}' (available: {available})", field="kind"
            )
        with_function = needs_function(kind)
        if with_function and request.function is None:
            raise InvalidParams.missing("function", f"a {kind.name} job works on a function")
        if not with_function and request.function is not None:
            raise InvalidInput(
                f"function: a {kind.name} job works on no function; leave it out",
                field="function",
            )
        try:
            params = kind.params_model.model_validate(request.params)
        except ValidationError as exc:
            raise InvalidParams.from_error(exc) from None
        # Read, then validate against FC outside any database block.
        async with self.db.read() as session:
            accounts = AccountRepository(session)
            alias = request.account or await _default_account(accounts)
            function: Function | None = None
            if request.function is not None:
                ref = FunctionRef(alias, request.function)
                function = await existing(FunctionRepository(session), ref)
                account = function.account
            else:
                account = await accounts.existing(alias)
        target = target_of(account, function, self.box)
        if function is not None:
            target.facts.update(await trigger_facts(self.gateway, target.access, function.name))
        await kind.validate(params, target.facts, self.settings)
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind.name,
            account_id=account.id,
            function_id=function.id if function is not None else None,
            status=JobStatus.QUEUED.value,
            params=params.model_dump(mode="json"),
            progress=0.0,
            attempts=0,
            created_by=author,
            # The submitting request's id: the worker's log lines for the job carry it.
            request_id=current_request_id(),
        )
        try:
            async with self.db.write() as session:
                await JobRepository(session).add(job)
        except IntegrityError:  # the function (or account) was removed meanwhile
            if function is not None:
                raise not_managed(function.ref) from None
            raise NotFound(f"no account {alias}") from None
        set_committed_value(job, "account", account)
        set_committed_value(job, "function", function)
        set_committed_value(job, "reports", [])
        return job

    async def get(self, job_id: str) -> Job:
        async with self.db.read() as session:
            found = await JobRepository(session).presentable(job_id)
        if found is None:
            raise NotFound(f"no job {job_id}")
        return found

    async def page(
        self,
        kind: str | None,
        status: JobStatus | None,
        account: str | None,
        function: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Job]:
        async with self.db.read() as session:
            return await JobRepository(session).page(
                kind, status.value if status else None, account, function, after, limit
            )

    async def cancel(self, job_id: str, actor: str | None) -> Job:
        """A queued job is cancelled at once; a running one is asked to stop."""
        now = utcnow()
        async with self.db.write() as session:
            repo = JobRepository(session)
            if await repo.finish(job_id, None, JobStatus.CANCELLED, now):
                await announce_finished(session, job_id, actor, self.settings)
            elif not await repo.request_cancel(job_id, now):
                found = await repo.get(job_id)
                if found is None:
                    raise NotFound(f"no job {job_id}")
                status = JobStatus(found.status)
                if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                    raise JobFinished(f"job {job_id} has already {status.value}", job_status=status)
        return await self.get(job_id)

    async def report(self, job_id: str, name: str) -> str:
        async with self.db.read() as session:
            repo = JobRepository(session)
            content = await repo.report(job_id, name)
            if content is None:
                if await repo.get(job_id) is None:
                    raise NotFound(f"no job {job_id}")
                raise ReportNotFound(f"job {job_id} has no {name} report (yet)")
        return content

    async def artifacts(self, job_id: str) -> list[tuple[str, str, int]]:
        """(name, media type, size in bytes) of the job's artifacts."""
        async with self.db.read() as session:
            repo = JobRepository(session)
            if await repo.get(job_id) is None:
                raise NotFound(f"no job {job_id}")
            return await repo.artifact_index(job_id)

    async def artifact(self, job_id: str, name: str) -> JobArtifact:
        async with self.db.read() as session:
            repo = JobRepository(session)
            found = await repo.artifact(job_id, name)
            if found is None:
                if await repo.get(job_id) is None:
                    raise NotFound(f"no job {job_id}")
                raise ArtifactNotFound(f"job {job_id} has no artifact {name} (yet)")
        return found

    async def snapshot(self, job_id: str) -> dict[str, Any] | None:
        """What the event stream sends: status, progress, note, live figures (None: no
        such job, or no longer)."""
        async with self.db.read() as session:
            return await JobRepository(session).snapshot(job_id)
