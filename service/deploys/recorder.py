"""Recording how a deploy ended, each outcome in one transaction with its webhook event."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.deploys.events import emit_deployment
from service.deploys.planner import Plan
from service.deploys.repository import DeploymentRepository
from service.drift.recorder import resolve_open_events
from service.functions import diff
from service.functions.repository import FunctionRepository
from service.functions.state import CODE, config_of
from service.kit.db import write_transaction
from service.kit.errors import Conflict, DomainError
from service.models import Deployment, Function, Revision
from service.models.base import utcnow


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


def plan_changes(shown: dict[str, Any]) -> dict[str, Any]:
    """The parts of a shown plan (``Plan.as_dict()``) a webhook event carries."""
    return {k: shown[k] for k in ("local_changes", "remote_changes", "conflicts", "drifted")}


async def record_refused(
    sessions: async_sessionmaker[AsyncSession],
    deployment: Deployment,
    plan: Plan,
    shown: dict[str, Any],
) -> None:
    deployment.status = "conflict"
    deployment.finished_at = utcnow()
    deployment.duration_ms = 0
    deployment.pushed_state = None
    async with write_transaction(sessions) as session:
        try:
            await DeploymentRepository(session).add(deployment)
        except IntegrityError:
            raise IdempotencyInProgress(
                "a deployment with this Idempotency-Key is in progress"
            ) from None
        await emit_deployment(
            session, "deploy.conflict", plan.function, deployment, **plan_changes(shown)
        )


async def record_failed(
    sessions: async_sessionmaker[AsyncSession],
    deployment: Deployment,
    function: str,
    error: DomainError,
    started: float,
) -> None:
    async with write_transaction(sessions) as session:
        await DeploymentRepository(session).finish(
            deployment,
            status="failed",
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
            session, "deploy.failed", function, deployment, error=deployment.error
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


async def record_succeeded(
    sessions: async_sessionmaker[AsyncSession],
    deployment: Deployment,
    new_state: dict[str, Any],
    sha: str | None,
    started: float,
    source: str,
) -> Revision:
    """Move head and applied state; ``deployment`` is updated in place; the new revision."""
    async with write_transaction(sessions) as session:
        functions = FunctionRepository(session)
        function = await session.get(Function, deployment.function_id, with_for_update=True)
        assert function is not None
        number = function.head_revision + 1
        changes = [c.as_dict() for c in diff.changes(function.applied_state or {}, new_state)]
        revision = await functions.add_revision(
            Revision(
                function_id=function.id,
                number=number,
                config=config_of(new_state),
                code_checksum=new_state.get(CODE),
                code_sha256=sha,
                source=source,
                message=deployment.message,
                created_by=deployment.created_by,
            )
        )
        # Only a drifted (or missing) function has an open drift event to resolve.
        if function.drift_status != "in_sync":
            await resolve_open_events(
                session, function, "use-remote" if source == "use-remote" else "deploy"
            )
        function.head_revision = number
        function.applied_state = new_state
        function.applied_at = utcnow()
        function.drift_status = "in_sync"
        function.drift_checked_at = utcnow()
        function.deploying_id = None
        function.deploy_lease_until = None
        await DeploymentRepository(session).finish(
            deployment,
            status="succeeded",
            to_revision=number,
            finished_at=utcnow(),
            duration_ms=int((time.monotonic() - started) * 1000),
            fc_request_ids=list(deployment.fc_request_ids),
            pushed_state=None,
        )
        await emit_deployment(
            session, "deploy.succeeded", function.name, deployment, changes=changes
        )
    return revision
