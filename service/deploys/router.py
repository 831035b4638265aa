from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.deploys.schemas import (
    ConflictProblem,
    DeploymentOut,
    DeployRequest,
    PlanOut,
    PlanRequest,
    RollbackRequest,
)
from service.deploys.service import REPLAYED_HEADER, DeployService
from service.functions.paths import FUNCTION_PREFIX, FunctionPath
from service.kit.openapi import created, problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.models import Deployment
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["deployments"], responses=problems(401, 403, 422))

IdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]


async def _service(request: Request) -> DeployService:
    state = app_state(request)
    return DeployService(
        state.db,
        state.secret_box,
        state.gateway,
        timedelta(seconds=state.settings.deploy_lease_seconds),
    )


Deploys = Annotated[DeployService, Depends(_service)]


def _created(response: Response, deployment: Deployment) -> DeploymentOut:
    created(response, f"/v1/deployments/{deployment.id}")
    return DeploymentOut.model_validate(deployment)


@router.post(FUNCTION_PREFIX + "/plan", response_model=PlanOut, responses=problems(404, 428, 502))
async def plan_function(
    ref: FunctionPath, body: PlanRequest, principal: DeployPrincipal, deploys: Deploys
) -> PlanOut:
    """What a deploy would change, locally and remotely, and where they conflict.

    Drift the plan sees is recorded (a drift event opened or updated, `drift.opened`
    sent), as a drift check would.
    """
    return await deploys.plan(ref, body, principal.name)


@router.get("/v1/plans/{plan_id}", response_model=PlanOut, responses=problems(404))
async def get_plan(plan_id: IdPath, _: ReadPrincipal, deploys: Deploys) -> PlanOut:
    return await deploys.saved_plan(plan_id)


@router.post(
    "/v1/plans/{plan_id}/apply",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentOut,
    responses=problems(404, 409, 502, conflict=ConflictProblem),
)
async def apply_plan(
    plan_id: IdPath, principal: DeployPrincipal, deploys: Deploys, response: Response
) -> DeploymentOut:
    """Deploy a saved plan; 409 `stale_plan` when the head, applied or live state moved."""
    return _created(response, await deploys.apply_plan(plan_id, principal.name))


@router.post(
    FUNCTION_PREFIX + "/deployments",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentOut,
    responses={
        201: {
            "headers": {
                REPLAYED_HEADER: {
                    "description": "`true` when this is the stored result of an earlier request "
                    "with the same Idempotency-Key and body (errors are replayed too).",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
        },
        **problems(404, 409, 428, 502, conflict=ConflictProblem),
    },
)
async def create_deployment(
    ref: FunctionPath,
    body: DeployRequest,
    principal: DeployPrincipal,
    deploys: Deploys,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="A retry with the same key and the same body returns the first result "
            "(header `Idempotent-Replayed: true`) and never deploys twice; the same key with a "
            "different body is refused with 422 `idempotency_key_reused`.",
        ),
    ] = None,
) -> DeploymentOut:
    """Deploy a config (and code) on top of `base_revision` with the given strategy.

    409 `revision_conflict`: another deploy moved the head since `base_revision`, or is
    deploying now (then with `Retry-After`); the plan's `remote_changes` are that deploy's
    change. 409 `drift_conflict`: FC itself differs from what fcplane applied (a console
    edit). Both carry the plan under `plan`.
    """
    deployment, replayed = await deploys.deploy(ref, body, principal.name, idempotency_key)
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return _created(response, deployment)


@router.post(
    FUNCTION_PREFIX + "/rollback",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentOut,
    responses=problems(404, 409, 428, 502, conflict=ConflictProblem),
)
async def rollback_function(
    ref: FunctionPath,
    body: RollbackRequest,
    principal: DeployPrincipal,
    deploys: Deploys,
    response: Response,
) -> DeploymentOut:
    """Deploy an earlier revision as a new head, under the same conflict rules."""
    return _created(response, await deploys.rollback(ref, body, principal.name))


@router.get(
    FUNCTION_PREFIX + "/deployments", response_model=Page[DeploymentOut], responses=problems(404)
)
async def list_deployments(
    ref: FunctionPath, _: ReadPrincipal, deploys: Deploys, page: PageDep
) -> Page[DeploymentOut]:
    """Newest first."""
    rows = await deploys.deployments(ref, page.after_str(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda d: d.id)
    return Page(items=[DeploymentOut.model_validate(d) for d in items], next_cursor=cursor)


@router.get(
    "/v1/deployments/{deployment_id}", response_model=DeploymentOut, responses=problems(404)
)
async def get_deployment(
    deployment_id: IdPath, _: ReadPrincipal, deploys: Deploys
) -> DeploymentOut:
    return DeploymentOut.model_validate(await deploys.deployment(deployment_id))
