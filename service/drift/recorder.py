"""Turning one comparison of live vs applied state into drift events (inside a transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.deploys.repository import DeploymentRepository
from service.drift.repository import DriftRepository
from service.functions import diff
from service.models import DriftEvent, Function
from service.models.base import utcnow
from service.webhooks.outbox import emit


@dataclass
class DriftResult:
    function: str
    drifted: bool
    changes: list[dict[str, Any]] = field(default_factory=list)
    event_id: int | None = None
    opened: bool = False
    interrupted_deployment: str | None = None


async def resolve_open_events(session: AsyncSession, function: Function, resolution: str) -> None:
    event = await DriftRepository(session).open_event(function.id)
    await _resolve(session, function, event, resolution)


async def _resolve(
    session: AsyncSession, function: Function, event: DriftEvent | None, resolution: str
) -> None:
    if event is not None:
        event.status = "resolved"
        event.resolution = resolution
        event.resolved_at = event.updated_at = utcnow()
        await session.flush()
        await emit(
            session,
            "drift.resolved",
            function.name,
            {"event_id": event.id, "resolution": resolution, "changes": event.changes},
            resource=f"/v1/drift-events/{event.id}",
        )


async def _take_over_interrupted(session: AsyncSession, function: Function) -> str | None:
    """A claim whose lease ran out belongs to a deploy that died: mark it, free the function."""
    if not function.deploying_id or (
        function.deploy_lease_until is not None and function.deploy_lease_until > utcnow()
    ):
        return None
    deployment_id = function.deploying_id
    await DeploymentRepository(session).mark_interrupted(deployment_id)
    function.deploying_id = None
    function.deploy_lease_until = None
    return deployment_id


async def record_check(
    session: AsyncSession,
    function: Function,
    live: dict[str, Any] | None,
    open_events: Mapping[int, DriftEvent] | None = None,
) -> DriftResult:
    """Record one check of ``function`` (its row locked by the caller).

    ``open_events``: the open events of a batch of functions, fetched at once
    by the caller; without it, this function's open event is looked up.
    """
    now = utcnow()
    function.drift_checked_at = now
    interrupted = await _take_over_interrupted(session, function)
    if function.applied_state is None:
        function.drift_status = "unknown"
        return DriftResult(function.name, drifted=False, interrupted_deployment=interrupted)
    found = [c.as_dict() for c in diff.changes(function.applied_state, live or {})]
    repo = DriftRepository(session)
    if open_events is None:
        event = await repo.open_event(function.id)
    else:
        event = open_events.get(function.id)
    if not found:
        function.drift_status = "in_sync"
        await _resolve(session, function, event, "in-sync")
        return DriftResult(function.name, drifted=False, interrupted_deployment=interrupted)
    function.drift_status = "missing" if live is None else "drifted"
    fingerprint = diff.fingerprint(live)
    opened = event is None
    if event is None:
        event = await repo.add(
            DriftEvent(
                function_id=function.id,
                status="open",
                changes=found,
                fingerprint=fingerprint,
                deployment_id=interrupted,
                opened_at=now,
                updated_at=now,
            )
        )
        await emit(
            session,
            "drift.opened",
            function.name,
            {"event_id": event.id, "changes": found, "interrupted_deployment": interrupted},
            resource=f"/v1/drift-events/{event.id}",
        )
    elif event.fingerprint != fingerprint:
        event.changes, event.fingerprint, event.updated_at = found, fingerprint, now
        if interrupted:
            event.deployment_id = interrupted
    await session.flush()
    return DriftResult(
        function.name,
        drifted=True,
        changes=found,
        event_id=event.id,
        opened=opened,
        interrupted_deployment=event.deployment_id,
    )
