from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.deploys import flows
from service.deploys.repository import DeploymentRepository
from service.deploys.schemas import (
    DeploymentOut,
    DeployRequest,
    PlanOut,
    PlanRequest,
    RollbackRequest,
)
from service.deploys.service import DeployService
from service.functions.repository import FunctionRepository
from service.functions.router import NamePath
from service.kit.errors import NotFound
from service.kit.openapi import problems
from service.kit.pagination import Page, PageDep
from service.kit.state import StateDep

router = APIRouter(tags=["deployments"], responses=problems(401, 403, 422))

IdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]


async def _service(state: StateDep) -> DeployService:
    return DeployService(
        state.sessions,
        state.secret_box,
        state.gateway,
        timedelta(seconds=state.settings.deploy_lease_seconds),
    )


Deploys = Annotated[DeployService, Depends(_service)]


@router.post("/v1/functions/{name}/plan", response_model=PlanOut, responses=problems(404, 428, 502))
async def plan_function(
    name: NamePath, body: PlanRequest, principal: DeployPrincipal, deploys: Deploys
) -> PlanOut:
    """What a deploy would change, locally and remotely, and where they conflict."""
    return await flows.plan(deploys, name, body, principal.name)


@router.get("/v1/plans/{plan_id}", response_model=PlanOut, responses=problems(404))
async def get_plan(plan_id: IdPath, _: ReadPrincipal, deploys: Deploys) -> PlanOut:
    return await flows.saved_plan(deploys, plan_id)


@router.post(
    "/v1/plans/{plan_id}/apply",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentOut,
    responses=problems(404, 409, 502),
)
async def apply_plan(
    plan_id: IdPath, principal: DeployPrincipal, deploys: Deploys
) -> DeploymentOut:
    """Deploy a saved plan; 409 `stale_plan` when the head, applied or live state moved."""
    return flows.present_deployment(await flows.apply_plan(deploys, plan_id, principal.name))


@router.post(
    "/v1/functions/{name}/deployments",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentOut,
    responses=problems(404, 409, 428, 502),
)
async def create_deployment(
    name: NamePath,
    body: DeployRequest,
    principal: DeployPrincipal,
    deploys: Deploys,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Retries with the same key return the first result and never deploy twice.",
        ),
    ] = None,
) -> DeploymentOut:
    """Deploy a config (and code) on top of `base_revision` with the given strategy."""
    deployed = await flows.deploy(deploys, name, body, principal.name, idempotency_key)
    return flows.present_deployment(deployed)


@router.post(
    "/v1/functions/{name}/rollback",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentOut,
    responses=problems(404, 409, 428, 502),
)
async def rollback_function(
    name: NamePath, body: RollbackRequest, principal: DeployPrincipal, deploys: Deploys
) -> DeploymentOut:
    """Deploy an earlier revision as a new head, under the same conflict rules."""
    return flows.present_deployment(await flows.rollback(deploys, name, body, principal.name))


@router.get(
    "/v1/functions/{name}/deployments", response_model=Page[DeploymentOut], responses=problems(404)
)
async def list_deployments(
    name: NamePath, _: ReadPrincipal, deploys: Deploys, page: PageDep
) -> Page[DeploymentOut]:
    async with deploys.sessions() as session:
        function = await FunctionRepository(session).by_name(name)
        if function is None:
            raise NotFound(f"function '{name}' is not managed by fcplane")
        rows = await DeploymentRepository(session).page(
            function.id, page.after_str(), page.limit + 1
        )
        items, cursor = page.trim(rows, key=lambda d: d.id)
        shown = await flows.load_presentable(session, items)
    return Page(items=[flows.present_deployment(d) for d in shown], next_cursor=cursor)


@router.get(
    "/v1/deployments/{deployment_id}", response_model=DeploymentOut, responses=problems(404)
)
async def get_deployment(
    deployment_id: IdPath, _: ReadPrincipal, deploys: Deploys
) -> DeploymentOut:
    async with deploys.sessions() as session:
        deployment = await DeploymentRepository(session).get(deployment_id)
        if deployment is None:
            raise NotFound(f"no deployment {deployment_id}")
        (shown,) = await flows.load_presentable(session, [deployment])
    return flows.present_deployment(shown)
