from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.jobs.schemas import JobCreate, JobOut, JobStatus
from service.jobs.service import SUMMARY_REPORT, JobService
from service.kit.names import account_alias, fc_name
from service.kit.openapi import problems
from service.kit.pagination import InvalidCursor, Page, PageDep
from service.kit.strict_route import StrictRoute
from service.state import app_state

log = logging.getLogger(__name__)

router = APIRouter(route_class=StrictRoute, tags=["jobs"], responses=problems(401, 403, 422))

LOCUST_REPORT = "locust"
# Reports are whole HTML documents (with scripts, for Locust's); sandboxing
# gives them an opaque origin, so they cannot act as fcplane's.
_REPORT_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts",
    "X-Content-Type-Options": "nosniff",
}
_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "HTML"}
}

JobIdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]


class JobQueue(Protocol):
    async def enqueue(self, job_id: str) -> None: ...


async def _service(request: Request) -> JobService:
    state = app_state(request)
    return JobService(state.db, state.secret_box, state.gateway, state.settings)


async def _queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.job_queue
    return queue


Jobs = Annotated[JobService, Depends(_service)]
Queue = Annotated[JobQueue, Depends(_queue)]


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    created, _, job_id = cursor.partition("|")
    try:
        after = datetime.fromisoformat(created)
    except ValueError:
        after = None
    if after is None or after.tzinfo is None or not job_id:
        raise InvalidCursor()
    return after, job_id


@router.post("/v1/jobs", status_code=202, response_model=JobOut, responses=problems(404))
async def submit_job(
    body: JobCreate, principal: DeployPrincipal, jobs: Jobs, queue: Queue
) -> JobOut:
    """Queue a stress or eval job; `params` are validated by the kind before anything is queued."""
    job = await jobs.submit(body, principal.name)
    try:
        await queue.enqueue(job.id)
    except Exception:  # e.g. Redis down: the job is recorded; the sweeper enqueues it later
        log.exception("job %s recorded but not enqueued; the sweeper will retry", job.id)
    return JobOut.model_validate(job)


@router.get("/v1/jobs", response_model=Page[JobOut])
async def list_jobs(
    _: ReadPrincipal,
    jobs: Jobs,
    page: PageDep,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[JobStatus | None, Query()] = None,
    account: Annotated[str | None, account_alias(Query)] = None,
    function: Annotated[str | None, fc_name(Query)] = None,
) -> Page[JobOut]:
    """Newest first."""
    rows = await jobs.page(
        kind, status, account, function, _after(page.after_str()), page.limit + 1
    )
    items, cursor = page.trim(rows, key=lambda job: f"{job.created_at.isoformat()}|{job.id}")
    return Page(items=[JobOut.model_validate(job) for job in items], next_cursor=cursor)


@router.get("/v1/jobs/{job_id}", response_model=JobOut, responses=problems(404))
async def get_job(job_id: JobIdPath, _: ReadPrincipal, jobs: Jobs) -> JobOut:
    return JobOut.model_validate(await jobs.get(job_id))


@router.post(
    "/v1/jobs/{job_id}/cancel", status_code=202, response_model=JobOut, responses=problems(404, 409)
)
async def cancel_job(job_id: JobIdPath, principal: DeployPrincipal, jobs: Jobs) -> JobOut:
    """A queued job is cancelled at once; a running one stops within a few seconds."""
    return JobOut.model_validate(await jobs.cancel(job_id, principal.name))


@router.get(
    "/v1/jobs/{job_id}/report",
    response_class=HTMLResponse,
    responses={**_HTML, **problems(404)},
)
async def get_report(job_id: JobIdPath, _: ReadPrincipal, jobs: Jobs) -> HTMLResponse:
    """The job's HTML report; 404 until the job has stored one."""
    return HTMLResponse(await jobs.report(job_id, SUMMARY_REPORT), headers=_REPORT_HEADERS)


@router.get(
    "/v1/jobs/{job_id}/report/locust",
    response_class=HTMLResponse,
    responses={**_HTML, **problems(404)},
)
async def get_locust_report(job_id: JobIdPath, _: ReadPrincipal, jobs: Jobs) -> HTMLResponse:
    """Locust's own HTML report of a stress job."""
    return HTMLResponse(await jobs.report(job_id, LOCUST_REPORT), headers=_REPORT_HEADERS)
