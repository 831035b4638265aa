"""Deploys with optimistic concurrency.

A deploy runs in three short transactions around the FC calls, never holding a
database transaction open while FC works:

1. claim   — record the deployment as in progress and take the function's claim
             (conditional UPDATE on the head and the claim), so exactly one of
             several racing deploys talks to FC;
2. FC      — make FC run the target state and read it back (push.py);
3. record  — new revision from the read-back, move head and applied state,
             release the claim; or, when FC refused, record the failure.

A process that dies between 2 and 3 leaves the claim to expire: the pushed
change then shows up as drift attributed to that deployment. A push that fails
part-way records a failed deployment that names what FC had applied (push.py).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.cloud.access import FcAccess
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.deploys.events import emit_deployment
from service.deploys.planner import Plan, Strategy, decide, make_plan
from service.deploys.push import FcPush
from service.deploys.recorder import (
    IdempotencyInProgress,
    plan_changes,
    record_failed,
    record_refused,
    record_succeeded,
)
from service.deploys.repository import DeploymentRepository
from service.deploys.schemas import DeployRequest
from service.functions.repository import FunctionRepository
from service.functions.service import FunctionService, revision_state
from service.functions.state import CODE, live_state, state_of
from service.kit.crypto import SecretBox
from service.kit.db import write_transaction
from service.kit.errors import Conflict, DomainError, InvalidInput, NotFound, PreconditionRequired
from service.models import Account, Deployment, Function, Revision
from service.models.base import utcnow


class DeployConflict(Conflict):
    """409 carrying the plan; ``code`` is revision_conflict or drift_conflict."""

    def __init__(
        self,
        plan: Plan,
        reason: str,
        deployment_id: str | None = None,
        shown: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason, plan=shown or plan.as_dict(), deployment_id=deployment_id)
        self.code = plan.conflict_code


@dataclass(frozen=True)
class Deployed:
    """A deployment as it ended, with what presenting it needs (no further lookups)."""

    deployment: Deployment
    function: str
    revision: Revision | None = None


@dataclass(frozen=True)
class Prepared:
    """Everything a deploy decided before talking to FC."""

    function: Function
    account: Account
    access: FcAccess
    plan: Plan
    local: dict[str, Any]
    live: dict[str, Any] | None
    code_sha256: str | None
    live_arn: str | None = None  # FC's tag API names the function by its ARN


class DeployService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        gateway: FcGateway,
        lease: timedelta,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.gateway = gateway
        self.lease = lease

    def _functions(self, session: AsyncSession) -> FunctionService:
        return FunctionService(FunctionRepository(session), self.box, self.gateway)

    # -- planning ----------------------------------------------------------

    async def prepare(
        self,
        session: AsyncSession,
        name: str,
        request: DeployRequest,
        local_override: tuple[dict[str, Any], str | None] | None = None,
    ) -> Prepared:
        functions = self._functions(session)
        found = await functions.functions.for_deploy(name, request.base_revision)
        if found is None:
            raise NotFound(f"function '{name}' is not managed by fcplane", function=name)
        function, account, revision = found
        head = function.head_revision
        base_number = request.base_revision
        if base_number is None:
            if head > 0:
                raise PreconditionRequired(
                    f"base_revision is required: function '{name}' is at revision {head}",
                    head_revision=head,
                )
            base_number = 0
        if base_number > head:
            raise InvalidInput(
                f"base_revision: function '{name}' has no revision {base_number} (head is {head})",
                field="base_revision",
            )
        base: dict[str, Any] = {}
        base_sha: str | None = None
        if base_number > 0:
            if revision is None:
                raise InvalidInput(
                    f"base_revision: function '{name}' has no revision {base_number}",
                    field="base_revision",
                )
            base, base_sha = revision_state(revision), revision.code_sha256
        if local_override is not None:
            local, code_sha = local_override
        else:
            local, code_sha = await self._local_state(session, request, base, base_sha)
        access = functions.access(account)
        live, live_arn = await self._live(access, function.name)
        plan = make_plan(
            name,
            base_number,
            head,
            base,
            local,
            live,
            function.applied_state,
            interrupted_deployment=self._interrupted(function),
        )
        return Prepared(function, account, access, plan, local, live, code_sha, live_arn)

    async def _local_state(
        self,
        session: AsyncSession,
        request: DeployRequest,
        base: dict[str, Any],
        base_sha: str | None,
    ) -> tuple[dict[str, Any], str | None]:
        if request.code_sha256 is None:
            checksum, sha = base.get(CODE), base_sha
        else:
            package = await FunctionRepository(session).package(request.code_sha256)
            if package is None:
                raise InvalidInput(
                    f"code_sha256: no code package {request.code_sha256}; upload it with "
                    "PUT /v1/code-packages/{sha256} first",
                    field="code_sha256",
                )
            checksum, sha = package.checksum, package.sha256
        return state_of(request.config.wire(), checksum), sha

    async def _live(self, access: FcAccess, name: str) -> tuple[dict[str, Any] | None, str | None]:
        """The live state and the function's ARN; (None, None) when FC has no such function."""
        try:
            result = await self.gateway.get_function(access, name)
        except FcNotFound:
            return None, None
        arn = result.body.get("functionArn")
        return live_state(result.body), str(arn) if arn else None

    @staticmethod
    def _interrupted(function: Function) -> str | None:
        if function.deploying_id and (
            function.deploy_lease_until is None or function.deploy_lease_until <= utcnow()
        ):
            return function.deploying_id
        return None

    # -- deploying ---------------------------------------------------------

    async def deploy(
        self,
        prepared: Prepared,
        strategy: Strategy,
        author: str | None,
        message: str | None,
        idempotency_key: str | None,
        kind: str = "deploy",
    ) -> Deployed:
        plan = prepared.plan
        shown = plan.as_dict()
        outcome = decide(plan, strategy, prepared.local, prepared.live)
        deployment = Deployment(
            id=str(uuid.uuid4()),
            function_id=prepared.function.id,
            status="in_progress",
            strategy=strategy,
            kind=kind,
            base_revision=plan.base_revision,
            from_revision=plan.head_revision,
            created_by=author,
            message=message,
            started_at=utcnow(),
            fc_request_ids=[],
            plan=shown,
            idempotency_key=idempotency_key,
            pushed_state=outcome.target,
        )
        if outcome.action == "refuse":
            await record_refused(self.sessions, deployment, plan, shown)
            raise DeployConflict(plan, outcome.reason, deployment.id, shown)
        await self._claim(deployment, plan, shown)
        started = time.monotonic()
        try:
            if outcome.action == "adopt":
                assert outcome.target is not None
                new_state, sha = outcome.target, await self._sha_for(outcome.target[CODE])
            else:
                assert outcome.target is not None
                new_state = await FcPush(self.gateway, self.sessions, prepared, deployment).run(
                    outcome.target
                )
                sha = (
                    prepared.code_sha256
                    if new_state.get(CODE) == outcome.target.get(CODE)
                    else await self._sha_for(new_state.get(CODE))
                )
        except DomainError as error:
            await record_failed(self.sessions, deployment, plan.function, error, started)
            raise
        revision = await record_succeeded(
            self.sessions,
            deployment,
            new_state,
            sha,
            started,
            source="use-remote"
            if outcome.action == "adopt"
            else ("rollback" if kind == "rollback" else "deploy"),
        )
        return Deployed(deployment, plan.function, revision)

    async def _claim(self, deployment: Deployment, plan: Plan, shown: dict[str, Any]) -> None:
        now = utcnow()
        async with write_transaction(self.sessions) as session:
            repo = DeploymentRepository(session)
            try:
                await repo.add(deployment)
            except IntegrityError:
                raise IdempotencyInProgress(
                    "a deployment with this Idempotency-Key is in progress"
                ) from None
            claimed = await FunctionRepository(session).claim(
                deployment.function_id, plan.head_revision, deployment.id, now, now + self.lease
            )
            if claimed and plan.interrupted_deployment:
                # The claim taken over was a dead deploy's: record it as interrupted
                # here too, not only when a drift check happens to come first.
                await repo.mark_interrupted(plan.interrupted_deployment)
            if not claimed:
                deployment.status = "conflict"
                deployment.finished_at = utcnow()
                deployment.pushed_state = None
                deployment.error = {"reason": "another deployment holds the function"}
                await emit_deployment(
                    session, "deploy.conflict", plan.function, deployment, **plan_changes(shown)
                )
        if deployment.status == "conflict":
            raise DeployConflict(
                plan,
                "another deployment of this function is in progress or just finished; "
                "re-plan from the new head",
                deployment.id,
                shown,
            )

    async def _sha_for(self, checksum: str | None) -> str | None:
        if not checksum:
            return None
        async with self.sessions() as session:
            package = await FunctionRepository(session).package_by_checksum(checksum)
            return package.sha256 if package else None
