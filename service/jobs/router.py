from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from service.auth.dependencies import DeployPrincipal, ReadPrincipal, authenticate
from service.auth.schemas import Scope
from service.jobs import events
from service.jobs.links import InvalidReportLink, link_key, signed_report_url, verify
from service.jobs.schemas import (
    ArtifactList,
    ArtifactOut,
    JobCreate,
    JobOut,
    JobStatus,
    ReportLinkCreate,
    SignedReportLink,
)
from service.jobs.service import SUMMARY_REPORT, JobService
from service.kit.errors import NotFound
from service.kit.names import account_alias, fc_name
from service.kit.openapi import TOKEN_OR_SIGNED_LINK, created, problems
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
ArtifactName = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
_SSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "Server-sent events: `progress` (data: the job's `id`, `status`, "
        "`progress`, `progress_note` and `live`) whenever they change, then `finished` "
        "(the same, final) before the stream closes; comment lines as heartbeats.",
    }
}


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


def _base(request: Request) -> str:
    """FCPLANE_PUBLIC_URL, else where the request was sent."""
    return (app_state(request).settings.public_url or str(request.base_url)).rstrip("/")


def _out(request: Request, job: Job) -> JobOut:
    """The job, with its reports as URLs."""
    return JobOut.model_validate(job, context={"base_url": _base(request)})


async def _report_reader(
    request: Request,
    job_id: JobIdPath,
    expires: Annotated[
        int | None, Query(ge=0, description="Signed link: expiry (Unix seconds).")
    ] = None,
    signature: Annotated[
        str | None,
        Query(max_length=128, description="Signed link: its signature (see report-links)."),
    ] = None,
) -> None:
    """A bearer token with scope `read` or, without one, a signed link (`expires` and
    `signature`)."""
    state = app_state(request)
    if "authorization" in request.headers or (expires is None and signature is None):
        await authenticate(request, Scope.READ)
        return
    try:
        if expires is None or signature is None:
            raise InvalidReportLink(
                "a signed report link needs both expires and signature",
                field="expires" if expires is None else "signature",
            )
        verify(link_key(state.settings), job_id, expires, signature)
    except InvalidReportLink:
        # No such job: 404 as with a token (job ids are random; this reveals nothing).
        await (await _service(request)).get(job_id)
        raise


ReportReader = Annotated[None, Depends(_report_reader)]


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
    openapi_extra=TOKEN_OR_SIGNED_LINK,
)
async def get_job_report(job_id: JobIdPath, _: ReportReader, jobs: Jobs) -> HTMLResponse:
    """The job's HTML report; 404 until the job has stored one.

    Opens with a bearer token (scope `read`) or, in a browser, with the `expires` and
    `signature` of a signed link (POST /v1/jobs/{id}/report-links, or `report_url` of a
    job.finished notification) until it expires: a tampered or expired link is 403."""
    return HTMLResponse(await jobs.report(job_id, SUMMARY_REPORT), headers=_REPORT_HEADERS)


@router.get(
    "/v1/jobs/{job_id}/report/locust",
    response_class=HTMLResponse,
    responses={**_HTML, **problems(404)},
    openapi_extra=TOKEN_OR_SIGNED_LINK,
)
async def get_job_locust_report(job_id: JobIdPath, _: ReportReader, jobs: Jobs) -> HTMLResponse:
    """Locust's own HTML report of a stress job (a signed link to the job's report opens
    it too, with the same `expires` and `signature`)."""
    return HTMLResponse(await jobs.report(job_id, LOCUST_REPORT), headers=_REPORT_HEADERS)


@router.post(
    "/v1/jobs/{job_id}/report-links",
    status_code=201,
    response_model=SignedReportLink,
    responses=problems(404),
)
async def create_job_report_link(
    job_id: JobIdPath,
    body: ReportLinkCreate,
    _: ReadPrincipal,
    jobs: Jobs,
    request: Request,
    response: Response,
) -> SignedReportLink:
    """A link to the job's report that opens in a browser without a token until
    `expires_at` (HMAC-SHA256 over the job id and the expiry under a key derived from the
    server's secret key). Anyone holding it can read that job's reports: share it as you
    would the report."""
    await jobs.get(job_id)
    link = signed_report_url(app_state(request).settings, job_id, body.ttl_seconds, _base(request))
    response.headers["Location"] = link.url
    return SignedReportLink(url=link.url, expires_at=link.expires_at)


@router.get(
    "/v1/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={**_SSE, **problems(404)},
)
async def stream_job_events(
    job_id: JobIdPath,
    _: ReadPrincipal,
    jobs: Jobs,
    last_event_id: Annotated[
        str | None,
        Header(max_length=64, description="Reconnecting: the `id` of the last event received."),
    ] = None,
) -> StreamingResponse:
    """The job's progress as server-sent events, about once a second while it changes,
    until it ends (e.g. `curl -N`). Each event carries the whole state: a stream may be
    dropped and reopened at any time."""
    first = await jobs.snapshot(job_id)
    if first is None:
        raise NotFound(f"no job {job_id}")
    body = events.stream(job_id, first, lambda: jobs.snapshot(job_id), last_event_id)
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/v1/jobs/{job_id}/artifacts", response_model=ArtifactList, responses=problems(404))
async def list_job_artifacts(
    job_id: JobIdPath, _: ReadPrincipal, jobs: Jobs, request: Request
) -> ArtifactList:
    """Files the job kept: a stress job's Locust CSVs (`locust_stats.csv`,
    `locust_stats_history.csv`, `locust_failures.csv`, `locust_exceptions.csv`) and its
    per-second timeline (`timeline.json`, `timeline.csv`). Empty until the job succeeded."""
    base = f"{_base(request)}/v1/jobs/{job_id}/artifacts/"
    return ArtifactList(
        items=[
            ArtifactOut(name=name, media_type=media, size=size, url=base + name)
            for name, media, size in await jobs.artifacts(job_id)
        ]
    )


@router.get(
    "/v1/jobs/{job_id}/artifacts/{name}",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {}},
            },
            "description": "The file, as an attachment.",
        },
        **problems(404),
    },
)
async def get_job_artifact(
    job_id: JobIdPath, name: ArtifactName, _: ReadPrincipal, jobs: Jobs
) -> Response:
    """Download one artifact (`Content-Disposition: attachment`)."""
    artifact = await jobs.artifact(job_id, name)
    return Response(
        artifact.content,
        media_type=artifact.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{job_id}-{artifact.name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
