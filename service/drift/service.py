"""Drift: the live function differs from what fcplane last applied.

A comparison of the live state with the applied state is *recorded* wherever
it is made — a drift check or scan, a plan, a deploy — by the functions below,
inside the caller's write transaction: a new difference opens a drift event
(and emits ``drift.opened``), a changed one updates it, a return to the
applied state resolves it. While a deploy holds the function, its change is
not drift and nothing is judged; once a dead deploy's claim has run out, the
difference it left is attributed to it (``deployment_id``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.deploys.repository import DeploymentRepository
from service.drift.repository import DriftRepository
from service.functions import diff
from service.functions.repository import FunctionRepository
from service.functions.service import existing
from service.functions.state import live_state
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import DomainError, NotFound
from service.models import DriftEvent, Function
from service.models.base import utcnow
from service.models.drift import DriftEventStatus, Resolution
from service.models.function import DriftStatus, FunctionRef
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType

log = logging.getLogger(__name__)

# Most checks recorded in one transaction by a scan.
RECORD_BATCH = 100


@dataclass
class DriftResult:
    ref: FunctionRef
    drifted: bool
    changes: list[dict[str, Any]] = field(default_factory=list)
    event_id: int | None = None
    opened: bool = False
    interrupted_deployment: str | None = None
    # A deployment holding the function: the check did not judge the live state.
    deploying: str | None = None


# -- recording (inside the caller's write transaction) -------------------------


async def observe(
    session: AsyncSession,
    function: Function,
    live: dict[str, Any] | None,
    open_events: Mapping[int, DriftEvent] | None = None,
) -> DriftResult:
    """Record a check of ``function`` (its row locked by the caller), as a check or plan does.

    A live claim means a deploy is pushing: nothing is judged. A claim that ran
    out belonged to a deploy that died after pushing: it is marked interrupted,
    the function freed, and the difference attributed to it.
    """
    now = utcnow()
    function.drift_checked_at = now
    if function.claim_held(now):
        return DriftResult(function.ref, drifted=False, deploying=function.deploying_id)
    interrupted = function.deploying_id
    if interrupted is not None:
        await DeploymentRepository(session).mark_interrupted(interrupted)
        function.deploying_id = function.deploy_lease_until = None
    return await record_drift(session, function, live, interrupted, open_events)


async def record_drift(
    session: AsyncSession,
    function: Function,
    live: dict[str, Any] | None,
    interrupted: str | None = None,
    open_events: Mapping[int, DriftEvent] | None = None,
) -> DriftResult:
    """Open, update or resolve ``function``'s drift event for this live state.

    ``interrupted``: a dead deploy that explains the difference (attributed even
    when the event was opened earlier, while its claim was still held).
    ``open_events``: the open events of a batch, fetched at once by the caller.
    """
    now = utcnow()
    function.drift_checked_at = now
    if function.applied_state is None:
        function.drift_status = DriftStatus.UNKNOWN
        return DriftResult(function.ref, drifted=False, interrupted_deployment=interrupted)
    found = [c.as_dict() for c in diff.changes(function.applied_state, live or {})]
    events = DriftRepository(session)
    event = (
        open_events.get(function.id)
        if open_events is not None
        else await events.open_event(function.id)
    )
    if not found:
        function.drift_status = DriftStatus.IN_SYNC
        if event is not None:
            await _resolve(session, function, event, Resolution.IN_SYNC, None)
        return DriftResult(function.ref, drifted=False, interrupted_deployment=interrupted)
    function.drift_status = DriftStatus.MISSING if live is None else DriftStatus.DRIFTED
    fingerprint = diff.fingerprint(live)
    opened = event is None
    if event is None:
        event = await events.add(
            DriftEvent(
                function_id=function.id,
                status=DriftEventStatus.OPEN,
                changes=found,
                fingerprint=fingerprint,
                deployment_id=interrupted,
                opened_at=now,
                updated_at=now,
            )
        )
        await emit(
            session,
            EventType.DRIFT_OPENED,
            function.ref,
            {"event_id": event.id, "changes": found, "interrupted_deployment": interrupted},
            resource=f"/v1/drift-events/{event.id}",
        )
    else:
        if event.fingerprint != fingerprint:
            event.changes, event.fingerprint, event.updated_at = found, fingerprint, now
        if interrupted is not None and event.deployment_id != interrupted:
            event.deployment_id, event.updated_at = interrupted, now
    return DriftResult(
        function.ref,
        drifted=True,
        changes=found,
        event_id=event.id,
        opened=opened,
        interrupted_deployment=event.deployment_id,
    )


async def resolve_drift(
    session: AsyncSession, function: Function, resolution: Resolution, deployment_id: str
) -> None:
    """A deploy replaced (or adopted) the drifted state: end the open event, naming it."""
    event = await DriftRepository(session).open_event(function.id)
    if event is not None:
        await _resolve(session, function, event, resolution, deployment_id)


async def _resolve(
    session: AsyncSession,
    function: Function,
    event: DriftEvent,
    resolution: Resolution,
    deployment_id: str | None,
) -> None:
    event.status = DriftEventStatus.RESOLVED
    event.resolution = resolution
    event.resolved_by_deployment_id = deployment_id
    event.resolved_at = event.updated_at = utcnow()
    await emit(
        session,
        EventType.DRIFT_RESOLVED,
        function.ref,
        {
            "event_id": event.id,
            "resolution": resolution,
            "resolved_by_deployment_id": deployment_id,
            "changes": event.changes,
        },
        resource=f"/v1/drift-events/{event.id}",
    )


# -- checking ------------------------------------------------------------------


def _removed(ref: FunctionRef | str) -> DomainError:
    return DomainError(f"function '{ref}' was removed during the check")


@dataclass(frozen=True)
class _Checked:
    function_id: int
    ref: FunctionRef
    live: dict[str, Any] | None


class DriftService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway

    async def _live(self, access: FcAccess, name: str) -> dict[str, Any] | None:
        try:
            return live_state((await self.gateway.get_function(access, name)).body)
        except FcNotFound:
            return None

    async def check(self, ref: FunctionRef) -> DriftResult:
        # Read FC outside any transaction, then record in a short one.
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
        live = await self._live(access_for(self.box, function.account), ref.name)
        async with self.db.write() as session:
            row = await FunctionRepository(session).get_for_update(function.id)
            if row is None:
                raise _removed(ref)
            return await observe(session, row, live)

    async def check_all(self, concurrency: int) -> dict[str, Any]:
        """Read every function from FC, ``concurrency`` at a time, while one task records
        the results in batches: one transaction per batch instead of one per function."""
        async with self.db.read() as session:
            targets = await FunctionRepository(session).all_with_accounts()
        accesses: dict[int, FcAccess] = {}
        for function in targets:
            if function.account_id not in accesses:
                accesses[function.account_id] = access_for(self.box, function.account)
        limit = asyncio.Semaphore(concurrency)
        checked: asyncio.Queue[_Checked | None] = asyncio.Queue()
        drifted: list[str] = []
        failed: dict[str, str] = {}

        def fail(ref: FunctionRef, error: DomainError) -> None:
            failed[str(ref)] = f"{error.code}: {error.detail}"
            log.warning("drift check of %s failed: %s", ref, error.code)

        async def read(function: Function) -> None:
            ref = function.ref
            async with limit:
                try:
                    live = await self._live(accesses[function.account_id], ref.name)
                except DomainError as error:
                    fail(ref, error)
                    return
            checked.put_nowait(_Checked(function.id, ref, live))

        async def record() -> None:
            while (first := await checked.get()) is not None:
                batch = [first]
                while len(batch) < RECORD_BATCH and not checked.empty():
                    item = checked.get_nowait()
                    if item is None:
                        checked.put_nowait(None)  # seen again by the loop condition
                        break
                    batch.append(item)
                await self._record(batch, drifted, fail)

        recorder = asyncio.create_task(record())
        try:
            await asyncio.gather(*(read(function) for function in targets))
        finally:
            checked.put_nowait(None)
            # What was read before a failure is still recorded.
            await recorder
        return {"checked": len(targets), "drifted": sorted(drifted), "failed": failed}

    async def _record(
        self,
        batch: list[_Checked],
        drifted: list[str],
        fail: Callable[[FunctionRef, DomainError], None],
    ) -> None:
        async with self.db.write() as session:
            functions = FunctionRepository(session)
            rows = {row.id: row for row in await functions.locked([c.function_id for c in batch])}
            events = await DriftRepository(session).open_events(list(rows))
            for c in batch:
                row = rows.get(c.function_id)
                if row is None:
                    fail(c.ref, _removed(c.ref))
                elif (await observe(session, row, c.live, events)).drifted:
                    drifted.append(str(c.ref))

    async def events(
        self,
        account: str | None,
        function: str | None,
        status: DriftEventStatus | None,
        after: int | None,
        limit: int,
    ) -> list[DriftEvent]:
        async with self.db.read() as session:
            return await DriftRepository(session).page(account, function, status, after, limit)

    async def event(self, event_id: int) -> DriftEvent:
        async with self.db.read() as session:
            found = await DriftRepository(session).with_function(event_id)
        if found is None:
            raise NotFound(f"no drift event {event_id}")
        return found
