"""Request-level flows: plan, deploy (idempotent), apply a saved plan, roll back."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.deploys.repository import DeploymentRepository
from service.deploys.schemas import (
    DeploymentOut,
    DeployRequest,
    PlanOut,
    PlanRequest,
    RollbackRequest,
)
from service.deploys.service import DeployConflict, Deployed, DeployService
from service.functions import diff
from service.functions.repository import FunctionRepository
from service.functions.service import present_revision, revision_state
from service.kit.db import write_transaction
from service.kit.errors import Conflict, DomainError, NotFound
from service.models import Deployment, Function, Revision, SavedPlan


class StalePlan(Conflict):
    code, title = "stale_plan", "The plan is stale"


def present_deployment(deployed: Deployed) -> DeploymentOut:
    deployment, revision = deployed.deployment, deployed.revision
    return DeploymentOut(
        id=deployment.id,
        function=deployed.function,
        status=deployment.status,
        kind=deployment.kind,
        strategy=deployment.strategy,
        base_revision=deployment.base_revision,
        from_revision=deployment.from_revision,
        to_revision=deployment.to_revision,
        message=deployment.message,
        created_by=deployment.created_by,
        started_at=deployment.started_at,
        finished_at=deployment.finished_at,
        duration_ms=deployment.duration_ms,
        fc_request_ids=[r for r in deployment.fc_request_ids if r],
        error=deployment.error,
        revision=present_revision(revision) if revision else None,
    )


async def load_presentable(session: AsyncSession, deployments: list[Deployment]) -> list[Deployed]:
    """Deployments with their function names and resulting revisions: one query for each."""
    functions = FunctionRepository(session)
    names = await functions.names_by_id({d.function_id for d in deployments})
    wanted: dict[int, set[int]] = {}
    for d in deployments:
        if d.to_revision is not None and d.status == "succeeded":
            wanted.setdefault(d.function_id, set()).add(d.to_revision)
    revisions: dict[tuple[int, int], Revision] = {}
    for function_id, numbers in wanted.items():
        for r in await functions.revisions_by_number(function_id, numbers):
            revisions[(r.function_id, r.number)] = r
    return [
        Deployed(
            d,
            names.get(d.function_id, "?"),
            revisions.get((d.function_id, d.to_revision))
            if d.to_revision is not None and d.status == "succeeded"
            else None,
        )
        for d in deployments
    ]


def _replay(deployment: Deployment) -> None:
    """Raise what the first attempt with this Idempotency-Key answered, if it failed."""
    if deployment.status == "in_progress":
        raise Conflict(
            "the deployment with this Idempotency-Key is still in progress",
            deployment_id=deployment.id,
        )
    if deployment.status == "conflict":
        error = Conflict(
            "deploy refused (replayed for this Idempotency-Key)",
            plan=deployment.plan,
            deployment_id=deployment.id,
        )
        error.code = (
            "revision_conflict"
            if (deployment.plan or {}).get("base_revision")
            != (deployment.plan or {}).get("head_revision")
            else "drift_conflict"
        )
        raise error
    if deployment.status in ("failed", "interrupted"):
        stored = deployment.error or {}
        failure = DomainError(
            str(stored.get("detail", "deployment failed")), deployment_id=deployment.id
        )
        failure.status = int(stored.get("status", 502))
        failure.code = str(stored.get("code", "deploy_failed"))
        raise failure


async def deploy(
    service: DeployService,
    name: str,
    request: DeployRequest,
    author: str | None,
    idempotency_key: str | None,
    kind: str = "deploy",
) -> Deployed:
    async with service.sessions() as session:
        if idempotency_key:
            earlier = await DeploymentRepository(session).by_function_and_key(name, idempotency_key)
            if earlier is not None:
                _replay(earlier)
                return (await load_presentable(session, [earlier]))[0]
        prepared = await service.prepare(session, name, request)
    return await service.deploy(
        prepared, request.strategy, author, request.message, idempotency_key, kind
    )


async def plan(
    service: DeployService, name: str, request: PlanRequest, author: str | None
) -> PlanOut:
    async with service.sessions() as session:
        prepared = await service.prepare(session, name, request)
    body: dict[str, Any] = prepared.plan.as_dict()
    if request.save:
        saved = SavedPlan(
            id=str(uuid.uuid4()),
            function_id=prepared.function.id,
            request=request.model_dump(mode="json", exclude={"save"}),
            plan=body,
            head_revision=prepared.plan.head_revision,
            applied_fingerprint=diff.fingerprint(prepared.function.applied_state),
            live_fingerprint=diff.fingerprint(prepared.live),
            created_by=author,
        )
        async with write_transaction(service.sessions) as session:
            await DeploymentRepository(session).add_plan(saved)
        body["id"] = saved.id
    return PlanOut(**body)


async def saved_plan(service: DeployService, plan_id: str) -> PlanOut:
    async with service.sessions() as session:
        saved = await DeploymentRepository(session).plan(plan_id)
    if saved is None:
        raise NotFound(f"no plan {plan_id}")
    return PlanOut(**saved.plan, id=saved.id)


async def apply_plan(service: DeployService, plan_id: str, author: str | None) -> Deployed:
    async with service.sessions() as session:
        saved = await DeploymentRepository(session).plan(plan_id)
        if saved is None:
            raise NotFound(f"no plan {plan_id}")
        if saved.applied_deployment_id:
            raise StalePlan(
                f"plan {plan_id} was already applied", deployment_id=saved.applied_deployment_id
            )
        function = await session.get(Function, saved.function_id)
        assert function is not None
        request = DeployRequest.model_validate(saved.request)
        prepared = await service.prepare(session, function.name, request)
    moved = [
        what
        for what, same in (
            ("head revision", prepared.plan.head_revision == saved.head_revision),
            (
                "applied state",
                diff.fingerprint(prepared.function.applied_state) == saved.applied_fingerprint,
            ),
            ("live state", diff.fingerprint(prepared.live) == saved.live_fingerprint),
        )
        if not same
    ]
    if moved:
        raise StalePlan(
            f"the {' and '.join(moved)} changed since the plan was made; plan again",
            plan=prepared.plan.as_dict(),
        )
    deployed = await service.deploy(
        prepared, request.strategy, author, request.message, None, kind="apply"
    )
    async with write_transaction(service.sessions) as session:
        row = await DeploymentRepository(session).plan(plan_id)
        if row is not None:
            row.applied_deployment_id = deployed.deployment.id
    return deployed


async def rollback(
    service: DeployService, name: str, request: RollbackRequest, author: str | None
) -> Deployed:
    async with service.sessions() as session:
        functions = FunctionRepository(session)
        function = await functions.by_name(name)
        if function is None:
            raise NotFound(f"function '{name}' is not managed by fcplane", function=name)
        target = await functions.revision(function.id, request.to_revision)
        if target is None:
            raise NotFound(
                f"function '{name}' has no revision {request.to_revision}",
                revision=request.to_revision,
            )
        deploy_request = DeployRequest(
            base_revision=request.base_revision,
            strategy=request.strategy,
            message=request.message or f"rollback to revision {request.to_revision}",
        )
        prepared = await service.prepare(
            session,
            name,
            deploy_request,
            local_override=(revision_state(target), target.code_sha256),
        )
    return await service.deploy(
        prepared, request.strategy, author, deploy_request.message, None, kind="rollback"
    )


__all__ = [
    "DeployConflict",
    "Deployed",
    "StalePlan",
    "apply_plan",
    "deploy",
    "load_presentable",
    "plan",
    "present_deployment",
    "rollback",
    "saved_plan",
]
