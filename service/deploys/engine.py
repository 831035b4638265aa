"""The deploy engine: load → read live → plan → claim → push → record.

Each stage either talks to the database in one short block or to FC, never
both at once, so no connection waits on FC:

1. load    — (read) the function, its account, the base revision, the local
             state, and the deployment holding the function, if any;
2. live    — (FC) what FC runs now;
3. plan    — (pure) the three-way comparison and the strategy's decision;
4. claim   — (write) record the deployment as in progress and take the
             function's claim (a conditional UPDATE on the head and the claim),
             so exactly one of several racing deploys talks to FC; a loser is
             refused with the winner's change as its remote changes;
5. push    — (FC) make FC run the target state and read it back (push.py);
6. record  — (write) new revision from the read-back, head and applied state
             moved, claim released; or the failure recorded (recorder.py).

A process that dies between 5 and 6 leaves the claim to expire: the pushed
change then shows up as drift attributed to that deployment. A push that fails
part-way records a failed deployment that names what FC had applied.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.deploys.events import emit_deployment
from service.deploys.planner import Plan, decide, make_plan
from service.deploys.push import FcPush
from service.deploys.recorder import (
    add_deployment,
    plan_changes,
    record_failed,
    record_seen_drift,
    record_succeeded,
    refuse,
    saw_drift,
)
from service.deploys.repository import DeploymentRepository
from service.deploys.schemas import DeployRequest
from service.drift.service import observe
from service.functions.handler_check import (
    HANDLER_FIELD,
    HANDLER_MISSING,
    ZIP_NAMES,
    PlanWarning,
    handler_may_change,
    handler_warnings,
    zip_names,
)
from service.functions.live import Live, LiveReader
from service.functions.repository import FunctionRepository
from service.functions.service import not_managed, revision_state
from service.functions.state import CODE, state_of
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import (
    REVISION_CONFLICT,
    Conflict,
    DomainError,
    InvalidInput,
    PreconditionRequired,
)
from service.models import Deployment, Function, Revision
from service.models.base import utcnow
from service.models.deployment import DeploymentKind, DeploymentStatus, Strategy
from service.models.function import FunctionRef
from service.webhooks.schemas import EventType

# Longest Retry-After suggested to a deploy that arrives while another one pushes.
MAX_RETRY_AFTER_S = 5


class HandlerMissing(InvalidInput):
    """The code package lacks the file the handler names: FC would take the deploy and
    fail the first invocation."""

    code, title = HANDLER_MISSING, "Handler not in the code package"

    def __init__(self, warning: PlanWarning) -> None:
        super().__init__(f"{HANDLER_FIELD}: {warning.message}", field=HANDLER_FIELD)


class DeployConflict(Conflict):
    """409 carrying the plan; ``code`` is revision_conflict or drift_conflict.

    While another deployment is pushing, ``Retry-After`` says when to re-plan.
    """

    def __init__(
        self,
        plan: Plan,
        reason: str,
        deployment_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(reason, plan=plan.as_dict(), deployment_id=deployment_id)
        self.code = plan.conflict_code
        if plan.deploying is not None:
            self.headers["Retry-After"] = str(retry_after or 1)


@dataclass(frozen=True)
class Loaded:
    """Stage 1: everything the database knows that a deploy needs."""

    function: Function  # with its account
    access: FcAccess
    base_revision: int
    base: dict[str, Any]
    local: dict[str, Any]
    code_sha256: str | None
    # The deploy changes the code or the handler's fields: check the one against the other.
    check_handler: bool
    # Another deployment holding the function: its id and the state it pushes.
    deploying: tuple[str, dict[str, Any] | None] | None
    retry_after: int | None


@dataclass(frozen=True)
class Prepared:
    """Stages 1-3: the loaded facts, what FC runs, and the plan."""

    loaded: Loaded
    remote: Live | None  # None: FC has no such function
    plan: Plan

    @property
    def live(self) -> dict[str, Any] | None:
        return self.remote.state if self.remote is not None else None

    @property
    def function(self) -> Function:
        return self.loaded.function


class DeployEngine:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway, lease: timedelta) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway
        self.lease = lease

    # -- 1. load -----------------------------------------------------------

    async def load(
        self,
        ref: FunctionRef,
        request: DeployRequest,
        local_override: Revision | None = None,
    ) -> Loaded:
        """``local_override``: deploy this revision's state (a rollback), not the request's."""
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            found = await functions.for_deploy(ref, request.base_revision)
            if found is None:
                raise not_managed(ref)
            function, revision = found
            base_number = _base_number(function, request.base_revision)
            base: dict[str, Any] = {}
            base_sha: str | None = None
            if base_number > 0:
                if revision is None:
                    raise InvalidInput(
                        f"base_revision: function '{ref}' has no revision {base_number}",
                        field="base_revision",
                    )
                base, base_sha = revision_state(revision), revision.code_sha256
            _check_region(request, function)
            code_changed = False
            if local_override is not None:
                local = revision_state(local_override)
                code_sha = local_override.code_sha256
            elif request.code_sha256 is None:
                local, code_sha = state_of(request.config.wire(), base.get(CODE)), base_sha
            else:
                package = await functions.package(request.code_sha256)
                if package is None:
                    raise InvalidInput(
                        f"code_sha256: no code package {request.code_sha256}; upload it with "
                        "PUT /v1/code-packages/{sha256} first",
                        field="code_sha256",
                    )
                local = state_of(request.config.wire(), package.checksum)
                code_sha = package.sha256
                code_changed = code_sha != base_sha
            deploying = await _holder(DeploymentRepository(session), function)
        return Loaded(
            function=function,
            access=access_for(self.box, function.account),
            base_revision=base_number,
            base=base,
            local=local,
            code_sha256=code_sha,
            # A rollback returns to a revision as it was deployed: nothing to check.
            check_handler=local_override is None and handler_may_change(base, local, code_changed),
            deploying=deploying,
            retry_after=_retry_after(function),
        )

    # -- 2. live -----------------------------------------------------------

    async def read_live(self, loaded: Loaded, name: str) -> Live | None:
        """The whole resource as FC runs it (configs read where the states put them)."""
        states = [loaded.local, loaded.function.applied_state]
        return await LiveReader(self.gateway).read(loaded.access, name, states)

    # -- 3. plan -----------------------------------------------------------

    async def prepare(
        self, ref: FunctionRef, request: DeployRequest, local_override: Revision | None = None
    ) -> Prepared:
        loaded = await self.load(ref, request, local_override)
        remote = await self.read_live(loaded, ref.name)
        function = loaded.function
        plan = make_plan(
            ref,
            loaded.base_revision,
            function.head_revision,
            loaded.base,
            loaded.local,
            remote.state if remote is not None else None,
            function.applied_state,
            interrupted_deployment=function.interrupted_deployment,
            deploying=loaded.deploying,
        )
        warnings = await self._handler_warnings(loaded)
        if warnings:
            plan = dataclasses.replace(plan, warnings=warnings)
        return Prepared(loaded, remote, plan)

    async def _handler_warnings(self, loaded: Loaded) -> list[PlanWarning]:
        sha = loaded.code_sha256
        if not loaded.check_handler or sha is None:
            return []
        names = ZIP_NAMES.get(sha)
        if names is None:
            async with self.db.read() as session:
                data = await FunctionRepository(session).package_data(sha)
            if data is None:
                return []
            names = await asyncio.to_thread(zip_names, data)
            ZIP_NAMES.put(sha, names)
        return handler_warnings(loaded.local, names)

    async def record_observation(self, prepared: Prepared) -> None:
        """A plan that saw drift (or its end, or a dead deploy) records it, as a check would."""
        function, plan = prepared.function, prepared.plan
        if not (saw_drift(function, plan) or plan.interrupted_deployment):
            return
        async with self.db.write() as session:
            row = await FunctionRepository(session).get_for_update(function.id)
            if row is not None:
                await observe(session, row, prepared.live)

    # -- 4. to 6.: claim, push, record -----------------------------------------

    async def run(
        self,
        prepared: Prepared,
        strategy: Strategy,
        *,
        author: str | None,
        message: str | None,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        kind: DeploymentKind = DeploymentKind.DEPLOY,
        allow_missing_handler: bool = False,
    ) -> tuple[Deployment, Revision]:
        """``allow_missing_handler``: push even when the plan warns the code package lacks
        the handler's file (code built elsewhere); otherwise that is a 422."""
        plan = prepared.plan
        outcome = decide(plan, strategy, prepared.loaded.local, prepared.live)
        if outcome.action == "push" and not allow_missing_handler:
            for warning in plan.warnings:
                if warning.code == HANDLER_MISSING:
                    raise HandlerMissing(warning)
        deployment = Deployment(
            id=str(uuid.uuid4()),
            function_id=prepared.function.id,
            status=DeploymentStatus.IN_PROGRESS,
            strategy=strategy,
            kind=kind,
            base_revision=plan.base_revision,
            from_revision=plan.head_revision,
            created_by=author,
            message=message,
            started_at=utcnow(),
            fc_request_ids=[],
            plan=plan.as_dict(),
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
            pushed_state=outcome.target,
            discarded_changes=[c.as_dict() for c in outcome.discarded],
            overwritten_changes=[c.as_dict() for c in outcome.overwritten],
        )
        if outcome.action == "refuse":
            raise await self._refuse(deployment, prepared, outcome.reason)
        assert outcome.target is not None
        await self._claim(deployment, prepared)
        started = time.monotonic()
        try:
            if outcome.action == "adopt":
                new_state, sha = outcome.target, None
            else:
                push = FcPush(self.gateway, self.db, prepared, deployment)
                new_state = (await push.run(outcome.target)).state
                same_code = new_state.get(CODE) == outcome.target.get(CODE)
                sha = prepared.loaded.code_sha256 if same_code else None
        except DomainError as error:
            await record_failed(self.db, deployment, plan.function, error, started)
            raise
        revision = await record_succeeded(
            self.db, deployment, new_state, started, sha=sha, adopted=outcome.action == "adopt"
        )
        return deployment, revision

    async def _refuse(
        self, deployment: Deployment, prepared: Prepared, reason: str
    ) -> DeployConflict:
        """Record the refusal, with the drift the plan saw — unless another deploy got in
        between the load and the read of FC: then what looked like drift is that deploy's
        push, and the refusal is a lost race (``revision_conflict`` with its change)."""
        plan = prepared.plan
        async with self.db.write() as session:
            await add_deployment(session, deployment)
            function = await FunctionRepository(session).get_for_update(deployment.function_id)
            if function is None:
                raise not_managed(plan.function)
            moved = function.head_revision != plan.head_revision or (
                function.claim_held() and function.deploying_id != plan.deploying
            )
            if moved:
                return await self._lost_race(session, deployment, prepared, function)
            refuse(deployment, plan.conflict_code, reason, plan.as_dict())
            await record_seen_drift(session, function, plan, prepared.live)
            await emit_deployment(
                session,
                EventType.DEPLOY_CONFLICT,
                plan.function,
                deployment,
                **plan_changes(deployment.plan or {}),
            )
        return DeployConflict(plan, reason, deployment.id, prepared.loaded.retry_after)

    async def _claim(self, deployment: Deployment, prepared: Prepared) -> None:
        plan = prepared.plan
        async with self.db.write() as session:
            await add_deployment(session, deployment)
            functions = FunctionRepository(session)
            # A claim lost to a deploy that has let go since (it failed before
            # moving the head) is tried once more: nothing changed in between.
            function: Function | None = None
            for _attempt in range(2):
                now = utcnow()
                if await functions.claim(
                    deployment.function_id, plan.head_revision, deployment.id, now, now + self.lease
                ):
                    await self._claimed(session, deployment, prepared)
                    return
                function = await functions.get_for_update(deployment.function_id)
                if function is None:
                    raise not_managed(plan.function)
                if function.claim_held() or function.head_revision != plan.head_revision:
                    break
            assert function is not None
            conflict = await self._lost_race(session, deployment, prepared, function)
        raise conflict

    async def _claimed(
        self, session: AsyncSession, deployment: Deployment, prepared: Prepared
    ) -> None:
        plan = prepared.plan
        if plan.interrupted_deployment:
            # The claim taken over was a dead deploy's: record it as interrupted
            # here too, not only when a drift check happens to come first.
            await DeploymentRepository(session).mark_interrupted(plan.interrupted_deployment)
        if not saw_drift(prepared.function, plan):
            return  # the usual deploy: nothing to record, no row to lock
        function = await FunctionRepository(session).get_for_update(deployment.function_id)
        if function is not None:
            await record_seen_drift(session, function, plan, prepared.live)

    async def _lost_race(
        self,
        session: AsyncSession,
        deployment: Deployment,
        prepared: Prepared,
        function: Function,
    ) -> DeployConflict:
        """Another deploy took the function between plan and claim: refuse with its change,
        as ``revision_conflict`` — what it deploys (while it pushes) or deployed."""
        loaded = prepared.loaded
        deploying = await _holder(DeploymentRepository(session), function)
        plan = make_plan(
            prepared.plan.function,
            loaded.base_revision,
            function.head_revision,
            loaded.base,
            loaded.local,
            # The winner's read-back, once it has finished.
            function.applied_state if deploying is None else prepared.live,
            function.applied_state,
            deploying=deploying,
        )
        # The refusal a plain deploy would get now (deploying, or behind the new head).
        refused = decide(plan, Strategy.FAIL, loaded.local, prepared.live)
        reason = (
            refused.reason
            if refused.action == "refuse"
            else "another deployment held this function a moment ago; retry"
        )
        shown = plan.as_dict()
        refuse(deployment, REVISION_CONFLICT, reason, shown)
        await emit_deployment(
            session, EventType.DEPLOY_CONFLICT, plan.function, deployment, **plan_changes(shown)
        )
        conflict = DeployConflict(plan, reason, deployment.id, _retry_after(function))
        conflict.code = REVISION_CONFLICT
        return conflict


def _check_region(request: DeployRequest, function: Function) -> None:
    region = request.config.region
    if region is not None and region != function.account.region:
        raise InvalidInput(
            f"config.region: '{region}' is not the region of account "
            f"'{function.account.alias}' ({function.account.region}); deploy to an account "
            "of that region",
            field="config.region",
        )


def _base_number(function: Function, requested: int | None) -> int:
    head = function.head_revision
    if requested is None:
        if head > 0:
            raise PreconditionRequired(
                f"base_revision is required: function '{function.ref}' is at revision {head}",
                head_revision=head,
            )
        return 0
    if requested > head:
        raise InvalidInput(
            f"base_revision: function '{function.ref}' has no revision {requested} "
            f"(head is {head})",
            field="base_revision",
        )
    return requested


async def _holder(
    deployments: DeploymentRepository, function: Function
) -> tuple[str, dict[str, Any] | None] | None:
    """Who holds ``function`` now and what it pushes: a deployment's target; None
    for an operation (a remove, a publish), which changes nothing a plan compares."""
    holder = function.deploying
    if holder is None:
        return None
    return holder, await deployments.pushed_state(holder)


def _retry_after(function: Function) -> int | None:
    if function.deploy_lease_until is None or not function.claim_held():
        return None
    remaining = (function.deploy_lease_until - utcnow()).total_seconds()
    return max(1, min(MAX_RETRY_AFTER_S, math.ceil(remaining)))
