"""The project API: /v1/projects (s.yaml projects) and /v1/fun2s (Funcraft conversion)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.kit.errors import InvalidInput
from service.kit.openapi import ZIP_CONTENT, created, problems, zip_media_type
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.models import Project, ProjectDeployment, ProjectRevision
from service.projects.builds import build_setup
from service.projects.fun2s import TemplateError, convert_template
from service.projects.schemas import (
    Fun2sOut,
    Fun2sRequest,
    ProjectConflictProblem,
    ProjectDeploymentOut,
    ProjectDeployRequest,
    ProjectOut,
    ProjectPlanOut,
    ProjectPut,
    ProjectRevisionOut,
    ProjectTargetRequest,
    TargetOut,
    UnmappedOut,
)
from service.projects.service import ProjectService
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["projects"], responses=problems(401, 403, 422))

PREFIX = "/v1/projects/{name}"
NamePath = Annotated[str, Path(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
NumberPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeploymentIdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]


async def _service(request: Request) -> ProjectService:
    state = app_state(request)
    return ProjectService(
        state.db,
        state.secret_box,
        state.gateway,
        timedelta(seconds=state.settings.deploy_lease_seconds),
        build_setup(state.settings),
    )


Projects = Annotated[ProjectService, Depends(_service)]


def _revision_out(revision: ProjectRevision) -> ProjectRevisionOut:
    return ProjectRevisionOut(
        number=revision.number,
        main=revision.main,
        files=revision.files,
        code=revision.code,
        env=revision.env_shown,
        environments=revision.environments,
        summary=revision.summary,
        message=revision.message,
        created_by=revision.created_by,
        created_at=revision.created_at,
    )


def _deployment_out(name: str, account: str, row: ProjectDeployment) -> ProjectDeploymentOut:
    return ProjectDeploymentOut.model_validate(
        {
            "id": row.id,
            "project": name,
            "account": account,
            "revision": row.revision,
            "environment": row.environment,
            "status": row.status,
            "strategy": row.strategy,
            "resolved": row.resolved,
            "results": row.results,
            "actions": row.actions,
            "error": row.error,
            "created_by": row.created_by,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
        }
    )


@router.post(
    "/v1/projects",
    response_model=ProjectRevisionOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "description": "The source equals the head revision: nothing new.",
            "model": ProjectRevisionOut,
        },
        **problems(404, 409, 413),
    },
)
async def create_project_revision(
    body: ProjectPut, principal: DeployPrincipal, projects: Projects, response: Response
) -> ProjectRevisionOut:
    """Create a project, or a new revision of it, from an s.yaml and its files.

    The source is parsed and checked now (422 naming the file, line and
    expression: unknown functions, cycles, missing resources or variables, a
    `flow` contradicting the output references; or the resource prop fcplane
    does not support). Code directories are referred to by the sha256 of their
    uploaded zip. Nothing is deployed: plan and deploy per account afterwards.
    """
    _, revision, is_new = await projects.put(body, principal.name)
    if is_new:
        created(response, f"/v1/projects/{body.name}/revisions/{revision.number}")
    else:
        response.status_code = status.HTTP_200_OK
    return _revision_out(revision)


@router.get("/v1/projects", response_model=Page[ProjectOut])
async def list_projects(_: ReadPrincipal, projects: Projects, page: PageDep) -> Page[ProjectOut]:
    """By name."""
    rows = await projects.page(page.after_str(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda p: p.name)
    return Page(items=[_project_out(p, []) for p in items], next_cursor=cursor)


def _project_out(project: Project, targets: list[TargetOut]) -> ProjectOut:
    return ProjectOut(
        name=project.name,
        head_revision=project.head_revision,
        created_by=project.created_by,
        created_at=project.created_at,
        updated_at=project.updated_at,
        targets=targets,
    )


@router.get(PREFIX, response_model=ProjectOut, responses=problems(404))
async def get_project(name: NamePath, _: ReadPrincipal, projects: Projects) -> ProjectOut:
    """The project, and per account where it deployed: the revision and what it left."""
    project, targets = await projects.get(name)
    return _project_out(
        project,
        [
            TargetOut(
                account=t.account.alias,
                revision=t.revision,
                resources=t.resources,
                updated_at=t.updated_at,
            )
            for t in targets
        ],
    )


@router.get(PREFIX + "/revisions", response_model=Page[ProjectRevisionOut], responses=problems(404))
async def list_project_revisions(
    name: NamePath, _: ReadPrincipal, projects: Projects, page: PageDep
) -> Page[ProjectRevisionOut]:
    """Newest first."""
    rows = await projects.revisions(name, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda r: r.number)
    return Page(items=[_revision_out(r) for r in items], next_cursor=cursor)


@router.get(
    PREFIX + "/revisions/{number}", response_model=ProjectRevisionOut, responses=problems(404)
)
async def get_project_revision(
    name: NamePath, number: NumberPath, _: ReadPrincipal, projects: Projects
) -> ProjectRevisionOut:
    return _revision_out(await projects.revision(name, number))


@router.post(PREFIX + "/plan", response_model=ProjectPlanOut, responses=problems(404, 502))
async def plan_project(
    name: NamePath, body: ProjectTargetRequest, _: DeployPrincipal, projects: Projects
) -> ProjectPlanOut:
    """What deploying a revision to one account would do, per resource.

    Each resource has its function plan (local and remote changes, conflicts,
    text, patches) against what this project last deployed there; `stale`
    lists the resources changed since (a `fail` deploy refuses them all).
    Resources whose props wait for other resources' outputs are `pending`;
    resources gone from the s.yaml are `delete`. `run` and `plugin` actions
    are listed but never executed by the server (`notes` says so).
    """
    return ProjectPlanOut(**(await projects.plan(name, body)).as_dict())


@router.post(
    PREFIX + "/deployments",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectDeploymentOut,
    responses=problems(404, 409, 502, conflict=ProjectConflictProblem),
)
async def deploy_project(
    name: NamePath,
    body: ProjectDeployRequest,
    principal: DeployPrincipal,
    projects: Projects,
    response: Response,
) -> ProjectDeploymentOut:
    """Deploy a project revision to one account.

    One concurrency check for the whole project: if any resource changed since
    this project last deployed it (another deploy, a console edit), the deploy
    is refused with 409 `project_conflict` and the project plan, unless its
    strategy (`strategy`, or per resource in `strategies`) says how to resolve
    it. Then the resources deploy in dependency order, independent ones at
    once, each one's outputs feeding `${resources.X.output...}` of the next.
    A failed resource skips those that depend on it; the others land, and
    `results` says exactly what did (status `failed` for the deployment).
    Resources removed from the s.yaml are removed from FC. Server-side fc3
    actions (`fc3 version publish`, `fc3 alias publish`, `fc3 invoke`) run and
    are recorded in `actions`; `run` and `plugin` actions never run here.
    """
    row, account = await projects.deploy(name, body, principal.name)
    created(response, f"{PREFIX.format(name=name)}/deployments/{row.id}")
    return _deployment_out(name, account, row)


@router.get(
    PREFIX + "/deployments/{deployment_id}",
    response_model=ProjectDeploymentOut,
    responses=problems(404),
)
async def get_project_deployment(
    name: NamePath, deployment_id: DeploymentIdPath, _: ReadPrincipal, projects: Projects
) -> ProjectDeploymentOut:
    row, account = await projects.deployment(name, deployment_id)
    return _deployment_out(name, account, row)


@router.get(
    PREFIX + "/sync",
    response_class=Response,
    responses={
        200: {
            "description": "`s.yaml` with every resource and each function's code folder.",
            "content": ZIP_CONTENT,
        },
        **problems(404, 409, 413, 502),
    },
)
async def sync_project(
    name: NamePath,
    _: ReadPrincipal,
    projects: Projects,
    request: Request,
    access: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_.-]+$",
            description="The s.yaml `access` whose account to read (default: the project's).",
        ),
    ] = None,
) -> Response:
    """The functions this project deployed to one account, as FC runs them now, in
    `s sync`'s layout: one `s.yaml` (`edition: 3.0.0`, every resource's props with
    read-only fields dropped) and each function's code in `<region>_<function>/`
    (`code:` points there, relative). Console edits show up here: submit it back to
    take them into the project."""
    filename, data = await projects.sync(name, access)
    return Response(
        data,
        media_type=zip_media_type(request),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    PREFIX + "/deployments", response_model=Page[ProjectDeploymentOut], responses=problems(404)
)
async def list_project_deployments(
    name: NamePath, _: ReadPrincipal, projects: Projects, page: PageDep
) -> Page[ProjectDeploymentOut]:
    """Newest first."""
    rows = await projects.deployments(name, page.after_str(), page.limit + 1)
    targets = (await projects.get(name))[1]
    accounts = {t.account_id: t.account.alias for t in targets}
    items, cursor = page.trim(rows, key=lambda d: d.id)
    return Page(
        items=[_deployment_out(name, accounts.get(d.account_id, ""), d) for d in items],
        next_cursor=cursor,
    )


@router.post("/v1/fun2s", response_model=Fun2sOut, responses=problems(413))
async def convert_fun2s(body: Fun2sRequest, _: ReadPrincipal) -> Fun2sOut:
    """Convert a Funcraft `template.yml` into an fc3 s.yaml (FC 3.0 natively).

    Services are flattened into function names, events become triggers with
    their `sourceArn`, custom domains become `customDomain`. What cannot be
    mapped (e.g. RDS triggers, API Gateway resources) is listed in `unmapped`
    with the reason — never dropped silently.
    """
    try:
        converted = convert_template(body.template, project=body.project, access=body.access)
    except TemplateError as error:
        raise InvalidInput(str(error), field="template", line=error.line) from None
    return Fun2sOut(
        syaml=converted.syaml,
        unmapped=[UnmappedOut(path=u.path, reason=u.reason) for u in converted.unmapped],
        warnings=converted.warnings,
    )
