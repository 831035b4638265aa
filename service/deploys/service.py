"""Deploys as the API offers them: plan, deploy (idempotent), apply a saved plan, roll back,
and the deployment history. The stages of one deploy are the engine's (engine.py)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value

from service.cloud.gateway import FcGateway
from service.deploys.engine import DeployConflict, DeployEngine, Prepared
from service.deploys.recorder import IdempotencyInProgress
from service.deploys.repository import DeploymentRepository
from service.deploys.schemas import DeployRequest, PlanOut, PlanRequest, RollbackRequest
from service.functions import diff
from service.functions.repository import FunctionRepository
from service.functions.service import existing
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import Conflict, DomainError, InvalidInput, NotFound
from service.models import Deployment, Function, Revision, SavedPlan
from service.models.deployment import DeploymentKind, DeploymentStatus
from service.models.function import FunctionRef

REPLAYED_HEADER = "Idempotent-Replayed"


class StalePlan(Conflict):
    code, title = "stale_plan", "The plan is stale"


class IdempotencyKeyReused(InvalidInput):
    code, title = "idempotency_key_reused", "Idempotency-Key reused"


def request_fingerprint(ref: FunctionRef, request: DeployRequest) -> str:
    """What a retry with the same Idempotency-Key must send again."""
    # The flag is left out while unset, so keys recorded before it existed still match.
    unset = set() if request.allow_missing_handler else {"allow_missing_handler"}
    body = {"function": str(ref), "request": request.model_dump(mode="json", exclude=unset)}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _presented(deployment: Deployment, function: Function, revision: Revision | None) -> Deployment:
    """Attach what the response shows, without a session (and without marking changes)."""
    set_committed_value(deployment, "function", function)
    set_committed_value(deployment, "revision", revision)
    return deployment


def _replay(deployment: Deployment) -> None:
    """Raise what the first attempt with this Idempotency-Key answered, if it was an error."""
    replayed = {REPLAYED_HEADER: "true"}
    if deployment.status == DeploymentStatus.IN_PROGRESS:
        error: DomainError = IdempotencyInProgress(
            "the deployment with this Idempotency-Key is still in progress",
            deployment_id=deployment.id,
        )
        error.headers["Retry-After"] = "1"
        raise error
    stored = deployment.error or {}
    if deployment.status == DeploymentStatus.CONFLICT:
        error = Conflict(
            str(stored.get("detail", "deploy refused")) + " (replayed for this Idempotency-Key)",
            plan=deployment.plan,
            deployment_id=deployment.id,
        )
        error.code = str(stored.get("code", "revision_conflict"))
    elif deployment.status in (DeploymentStatus.FAILED, DeploymentStatus.INTERRUPTED):
        error = DomainError(
            str(stored.get("detail", "deployment failed")), deployment_id=deployment.id
        )
        error.status = int(stored.get("status", 502))
        error.code = str(stored.get("code", "deploy_failed"))
    else:
        return
    error.headers.update(replayed)
    raise error


class DeployService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway, lease: timedelta) -> None:
        self.db = db
        self.engine = DeployEngine(db, box, gateway, lease)

    async def plan(self, ref: FunctionRef, request: PlanRequest, author: str | None) -> PlanOut:
        prepared = await self.engine.prepare(ref, request)
        await self.engine.record_observation(prepared)
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
            async with self.db.write() as session:
                await DeploymentRepository(session).add(saved)
            body["id"] = saved.id
        return PlanOut(**body)

    async def deploy(
        self,
        ref: FunctionRef,
        request: DeployRequest,
        author: str | None,
        idempotency_key: str | None,
    ) -> tuple[Deployment, bool]:
        """The deployment, and whether it is a replay of an earlier request with the key."""
        fingerprint = request_fingerprint(ref, request) if idempotency_key else None
        if idempotency_key:
            async with self.db.read() as session:
                earlier = await DeploymentRepository(session).by_function_and_key(
                    ref, idempotency_key
                )
            if earlier is not None:
                if earlier.request_fingerprint not in (None, fingerprint):
                    raise IdempotencyKeyReused(
                        "Idempotency-Key: this key was used for a different request to this "
                        "function; use a new key for a new request",
                        field="Idempotency-Key",
                        deployment_id=earlier.id,
                    )
                _replay(earlier)
                return earlier, True
        prepared = await self.engine.prepare(ref, request)
        return await self._run(prepared, request, author, idempotency_key, fingerprint), False

    async def _run(
        self,
        prepared: Prepared,
        request: DeployRequest,
        author: str | None,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        kind: DeploymentKind = DeploymentKind.DEPLOY,
        message: str | None = None,
    ) -> Deployment:
        deployment, revision = await self.engine.run(
            prepared,
            request.strategy,
            author=author,
            message=message or request.message,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            kind=kind,
            allow_missing_handler=request.allow_missing_handler,
        )
        return _presented(deployment, prepared.function, revision)

    async def saved_plan(self, plan_id: str) -> PlanOut:
        async with self.db.read() as session:
            saved = await DeploymentRepository(session).plan(plan_id)
        if saved is None:
            raise NotFound(f"no plan {plan_id}")
        return PlanOut(**saved.plan, id=saved.id)

    async def apply_plan(self, plan_id: str, author: str | None) -> Deployment:
        async with self.db.read() as session:
            saved = await DeploymentRepository(session).plan(plan_id)
            function = (
                await FunctionRepository(session).with_account(saved.function_id) if saved else None
            )
        if saved is None or function is None:
            raise NotFound(f"no plan {plan_id}")
        if saved.applied_deployment_id:
            raise StalePlan(
                f"plan {plan_id} was already applied", deployment_id=saved.applied_deployment_id
            )
        request = DeployRequest.model_validate(saved.request)
        prepared = await self.engine.prepare(function.ref, request)
        moved = [
            what
            for what, same in (
                ("head revision", prepared.plan.head_revision == saved.head_revision),
                (
                    "applied state",
                    diff.fingerprint(prepared.function.applied_state) == saved.applied_fingerprint,
                ),
                ("live state", diff.fingerprint(prepared.live) == saved.live_fingerprint),
                ("deploy in progress", prepared.plan.deploying is None),
            )
            if not same
        ]
        if moved:
            raise StalePlan(
                f"the {' and '.join(moved)} changed since the plan was made; plan again",
                plan=prepared.plan.as_dict(),
            )
        deployed = await self._run(prepared, request, author, kind=DeploymentKind.APPLY)
        async with self.db.write() as session:
            row = await DeploymentRepository(session).plan(plan_id)
            if row is not None:
                row.applied_deployment_id = deployed.id
        return deployed

    async def rollback(
        self, ref: FunctionRef, request: RollbackRequest, author: str | None
    ) -> Deployment:
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, ref)
            target = await functions.revision(function.id, request.to_revision)
        if target is None:
            raise NotFound(
                f"function '{ref}' has no revision {request.to_revision}",
                revision=request.to_revision,
            )
        deploy_request = DeployRequest(
            base_revision=request.base_revision, strategy=request.strategy
        )
        prepared = await self.engine.prepare(ref, deploy_request, local_override=target)
        return await self._run(
            prepared,
            deploy_request,
            author,
            kind=DeploymentKind.ROLLBACK,
            message=request.message or f"rollback to revision {request.to_revision}",
        )

    async def deployments(
        self, ref: FunctionRef, after: str | None, limit: int
    ) -> list[Deployment]:
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            return await DeploymentRepository(session).page(function.id, after, limit)

    async def deployment(self, deployment_id: str) -> Deployment:
        async with self.db.read() as session:
            found = await DeploymentRepository(session).presentable(deployment_id)
        if found is None:
            raise NotFound(f"no deployment {deployment_id}")
        return found


__all__ = ["REPLAYED_HEADER", "DeployConflict", "DeployService", "StalePlan"]
