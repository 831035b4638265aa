"""Recording how a deploy ended, each outcome in one write transaction with its events.

Drift the deploy saw is recorded in the same transaction as the deploy's own
record (refused or claimed), and a deploy that replaces or adopts drift
resolves the drift event with its own id.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.deploys.events import emit_deployment
from service.deploys.planner import Plan
from service.deploys.repository import DeploymentRepository
from service.drift.service import record_drift, resolve_drift
from service.functions import diff
from service.functions.repository import FunctionRepository
from service.functions.state import CODE, config_of
from service.kit.db import Database
from service.kit.errors import Conflict, DomainError
from service.models import Deployment, Function, Revision
from service.models.base import utcnow
from service.models.deployment import DeploymentKind, DeploymentStatus
from service.models.drift import Resolution
from service.models.function import DriftStatus, FunctionRef
from service.models.revision import RevisionSource
from service.webhooks.schemas import EventType


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


def plan_changes(shown: dict[str, Any]) -> dict[str, Any]:
    """The parts of a shown plan (``Plan.as_dict()``) a webhook event carries."""
    return {k: shown[k] for k in ("local_changes", "remote_changes", "conflicts", "drifted")}


async def add_deployment(session: AsyncSession, deployment: Deployment) -> None:
    try:
        await DeploymentRepository(session).add(deployment)
    except IntegrityError:
        raise IdempotencyInProgress(
            "a deployment with this Idempotency-Key is in progress"
        ) from None


async def record_seen_drift(
    session: AsyncSession, function: Function, plan: Plan, live: dict[str, Any] | None
) -> None:
    """Record what the plan saw of FC, when it saw drift (or the end of one)."""
    if saw_drift(function, plan):
        await record_drift(session, function, live, plan.interrupted_deployment)


def saw_drift(function: Function, plan: Plan) -> bool:
    """The plan saw drift, or the end of one (``function`` as loaded for it is enough)."""
    return plan.deploying is None and (plan.drifted or function.drift_status != DriftStatus.IN_SYNC)


def refuse(deployment: Deployment, code: str, reason: str, shown: dict[str, Any]) -> None:
    """Mark ``deployment`` (not yet written or just claimed) as refused with ``shown``."""
    deployment.status = DeploymentStatus.CONFLICT
    deployment.finished_at = utcnow()
    deployment.duration_ms = 0
    deployment.pushed_state = None
    deployment.plan = shown
    deployment.error = {"code": code, "status": 409, "detail": reason}


async def record_failed(
    db: Database,
    deployment: Deployment,
    function: FunctionRef,
    error: DomainError,
    started: float,
) -> None:
    async with db.write() as session:
        await DeploymentRepository(session).finish(
            deployment,
            status=DeploymentStatus.FAILED,
            finished_at=utcnow(),
            duration_ms=int((time.monotonic() - started) * 1000),
            fc_request_ids=list(deployment.fc_request_ids)
            + ([str(error.extra["fc_request_id"])] if error.extra.get("fc_request_id") else []),
            error={
                "code": error.code,
                "status": error.status,
                "detail": error.detail,
                **{k: v for k, v in error.extra.items() if k.startswith("fc_")},
            },
            pushed_state=None,
        )
        await FunctionRepository(session).release(deployment.function_id, deployment.id)
        await emit_deployment(
            session, EventType.DEPLOY_FAILED, function, deployment, error=deployment.error
        )
    error.extra.setdefault("deployment_id", deployment.id)


def note_partly_applied(error: DomainError, applied: list[str]) -> None:
    """Say in ``error`` that FC already runs part of the deploy, and which part.

    ``fc_applied`` is kept with the deployment's error (as every ``fc_`` detail
    is); the revision and applied state are left alone, so the part that landed
    is drift until a deploy or ``use-remote`` records it.
    """
    error.extra["fc_applied"] = list(applied)
    error.detail = (
        f"{error.detail} (after FC had accepted {', '.join(applied)}: the live function now "
        "has part of this deploy, which the next plan shows among its remote changes)"
    )


def _source(deployment: Deployment, adopted: bool) -> tuple[RevisionSource, Resolution]:
    if adopted:
        return RevisionSource.USE_REMOTE, Resolution.USE_REMOTE
    if deployment.kind == DeploymentKind.ROLLBACK:
        return RevisionSource.ROLLBACK, Resolution.ROLLBACK
    return RevisionSource.DEPLOY, Resolution.DEPLOY


async def record_succeeded(
    db: Database,
    deployment: Deployment,
    new_state: dict[str, Any],
    started: float,
    *,
    sha: str | None,
    adopted: bool,
) -> Revision:
    """Move head and applied state; ``deployment`` is updated in place; the new revision.

    ``sha``: the package of the new state's code (None: look it up by checksum).
    """
    source, resolution = _source(deployment, adopted)
    async with db.write() as session:
        functions = FunctionRepository(session)
        function = await functions.get_for_update(deployment.function_id)
        assert function is not None  # the claim keeps it from being removed
        number = function.head_revision + 1
        changes = [c.as_dict() for c in diff.changes(function.applied_state or {}, new_state)]
        revision = await functions.add(
            Revision(
                function_id=function.id,
                number=number,
                config=config_of(new_state),
                code_checksum=new_state.get(CODE),
                code_sha256=sha or await functions.sha256_by_checksum(new_state.get(CODE)),
                source=source,
                message=deployment.message,
                created_by=deployment.created_by,
            )
        )
        # Only a drifted (or missing) function has an open drift event to resolve.
        if function.drift_status != DriftStatus.IN_SYNC:
            await resolve_drift(session, function, resolution, deployment.id)
        now = utcnow()
        function.head_revision = number
        function.applied_state = new_state
        function.applied_at = function.drift_checked_at = now
        function.drift_status = DriftStatus.IN_SYNC
        function.deploying_id = function.deploy_lease_until = None
        await DeploymentRepository(session).finish(
            deployment,
            status=DeploymentStatus.SUCCEEDED,
            to_revision=number,
            finished_at=now,
            duration_ms=int((time.monotonic() - started) * 1000),
            fc_request_ids=list(deployment.fc_request_ids),
            pushed_state=None,
        )
        await emit_deployment(
            session,
            EventType.DEPLOY_SUCCEEDED,
            function.ref,
            deployment,
            changes=changes,
            discarded_changes=deployment.discarded_changes or [],
            overwritten_changes=deployment.overwritten_changes or [],
        )
    return revision
