from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.jobs.schemas import JobCreate, JobOut, JobStatus
from service.jobs.service import SUMMARY_REPORT, JobService
from service.kit.names import account_alias, fc_name
from service.kit.openapi import created, problems
from service.kit.pagination import InvalidCursor, Page, PageDep
from service.kit.strict_route import StrictRoute
from service.models import Job
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


def _out(request: Request, job: Job) -> JobOut:
    """The job, with its reports as URLs (FCPLANE_PUBLIC_URL, else where it was asked)."""
    base = app_state(request).settings.public_url or str(request.base_url)
    return JobOut.model_validate(job, context={"base_url": base.rstrip("/")})


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


@router.post(
    "/v1/jobs",
    status_code=202,
    response_model=JobOut,
    responses={
        202: {
            "description": "Queued; follow it at `Location`.",
            "headers": {
                "Location": {
                    "description": "Where the job is read (a path on this API).",
                    "schema": {"type": "string", "format": "uri-reference"},
                }
            },
        },
        **problems(404),
    },
)
async def create_job(
    body: JobCreate,
    principal: DeployPrincipal,
    jobs: Jobs,
    queue: Queue,
    request: Request,
    response: Response,
) -> JobOut:
    """Queue a stress, eval or build job. `params` are the kind's (`StressParams`,
    `EvalSpecParams`, `EvalConcurrencyParams`, `BuildParams`), validated before anything
    is queued: 422 names each bad field as `params.<field>`. A build names no `function`."""
    job = await jobs.submit(body, principal.name)
    try:
        await queue.enqueue(job.id)
    except Exception:  # e.g. Redis down: the job is recorded; the sweeper enqueues it later
        log.exception("job %s recorded but not enqueued; the sweeper will retry", job.id)
    created(response, f"/v1/jobs/{job.id}")
    return _out(request, job)


@router.get("/v1/jobs", response_model=Page[JobOut])
async def list_jobs(
    request: Request,
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
    return Page(items=[_out(request, job) for job in items], next_cursor=cursor)


@router.get("/v1/jobs/{job_id}", response_model=JobOut, responses=problems(404))
async def get_job(job_id: JobIdPath, _: ReadPrincipal, jobs: Jobs, request: Request) -> JobOut:
    return _out(request, await jobs.get(job_id))


@router.post(
    "/v1/jobs/{job_id}/cancel", status_code=202, response_model=JobOut, responses=problems(404, 409)
)
async def cancel_job(
    job_id: JobIdPath, principal: DeployPrincipal, jobs: Jobs, request: Request
) -> JobOut:
    """A queued job is cancelled at once; a running one stops within a few seconds."""
    return _out(request, await jobs.cancel(job_id, principal.name))


@router.get(
    "/v1/jobs/{job_id}/report",
    response_class=HTMLResponse,
    responses={**_HTML, **problems(404)},
)
async def get_job_report(job_id: JobIdPath, _: ReadPrincipal, jobs: Jobs) -> HTMLResponse:
    """The job's HTML report; 404 until the job has stored one."""
    return HTMLResponse(await jobs.report(job_id, SUMMARY_REPORT), headers=_REPORT_HEADERS)


@router.get(
    "/v1/jobs/{job_id}/report/locust",
    response_class=HTMLResponse,
    responses={**_HTML, **problems(404)},
)
async def get_job_locust_report(job_id: JobIdPath, _: ReadPrincipal, jobs: Jobs) -> HTMLResponse:
    """Locust's own HTML report of a stress job."""
    return HTMLResponse(await jobs.report(job_id, LOCUST_REPORT), headers=_REPORT_HEADERS)
