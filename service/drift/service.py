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
from service.functions.live import LiveReader
from service.functions.repository import FunctionRepository
from service.functions.service import existing
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import DomainError, NotFound
from service.models import Alias, DriftEvent, Function
from service.models.base import utcnow
from service.models.drift import DriftEventStatus, Resolution
from service.models.function import DriftStatus, FunctionRef
from service.releases.repository import AliasRepository
from service.releases.state import alias_state
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
    out belonged to a deploy (or operation) that died after pushing: the function
    is freed, and a deployment is marked interrupted with the difference
    attributed to it.
    """
    now = utcnow()
    function.drift_checked_at = now
    if function.claim_held(now):
        return DriftResult(function.ref, drifted=False, deploying=function.deploying_id)
    interrupted = function.interrupted_deployment
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
    function.drift_checked_at = utcnow()
    if function.applied_state is None:
        function.drift_status = DriftStatus.UNKNOWN
        return DriftResult(function.ref, drifted=False, interrupted_deployment=interrupted)
    found = [c.as_dict() for c in diff.changes(function.applied_state, live or {})]
    event = (
        open_events.get(function.id)
        if open_events is not None
        else await DriftRepository(session).open_event(function.id)
    )
    result = await _record(session, function, None, found, live, event, interrupted)
    function.drift_status = result.status
    return result.outcome


async def record_alias_drift(
    session: AsyncSession, function: Function, alias: Alias, live: dict[str, Any] | None
) -> DriftResult:
    """The same for one of the function's aliases: its routing as fcplane applied it
    (None: deleted through fcplane) against FC's; paths read ``/aliases/<name>/...``."""
    found = [
        c.as_dict()
        for c in diff.changes(alias.applied_state or {}, live or {}, f"/aliases/{alias.name}")
    ]
    event = await DriftRepository(session).open_event(function.id, alias.name)
    result = await _record(session, function, alias.name, found, live, event, None)
    alias.drift_status = result.status
    return result.outcome


@dataclass(frozen=True)
class _Recorded:
    status: DriftStatus
    outcome: DriftResult


async def _record(
    session: AsyncSession,
    function: Function,
    alias: str | None,
    found: list[dict[str, Any]],
    live: dict[str, Any] | None,
    event: DriftEvent | None,
    interrupted: str | None,
) -> _Recorded:
    """Open, update or resolve ``event`` for the changes ``found`` (of the function itself,
    or of its ``alias``); emits drift.opened / drift.resolved."""
    now = utcnow()
    if not found:
        if event is not None:
            await _resolve(session, function, event, Resolution.IN_SYNC, None)
        return _Recorded(
            DriftStatus.IN_SYNC,
            DriftResult(function.ref, drifted=False, interrupted_deployment=interrupted),
        )
    fingerprint = diff.fingerprint(live)
    opened = event is None
    if event is None:
        event = await DriftRepository(session).add(
            DriftEvent(
                function_id=function.id,
                alias=alias,
                status=DriftEventStatus.OPEN,
                changes=found,
                fingerprint=fingerprint,
                deployment_id=interrupted,
                opened_at=now,
                updated_at=now,
            )
        )
        payload: dict[str, Any] = {
            "event_id": event.id,
            "changes": found,
            "interrupted_deployment": interrupted,
        }
        if alias is not None:
            payload["alias"] = alias
        await emit(
            session,
            EventType.DRIFT_OPENED,
            function.ref,
            payload,
            resource=f"/v1/drift-events/{event.id}",
        )
    else:
        if event.fingerprint != fingerprint:
            event.changes, event.fingerprint, event.updated_at = found, fingerprint, now
        if interrupted is not None and event.deployment_id != interrupted:
            event.deployment_id, event.updated_at = interrupted, now
    return _Recorded(
        DriftStatus.MISSING if live is None else DriftStatus.DRIFTED,
        DriftResult(
            function.ref,
            drifted=True,
            changes=found,
            event_id=event.id,
            opened=opened,
            interrupted_deployment=event.deployment_id,
        ),
    )


async def resolve_drift(
    session: AsyncSession,
    function: Function,
    resolution: Resolution,
    deployment_id: str | None,
    alias: str | None = None,
) -> None:
    """A deploy (or an alias change) replaced or adopted the drifted state: end the open
    event, naming the deployment when there is one."""
    event = await DriftRepository(session).open_event(function.id, alias)
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
            **({"alias": event.alias} if event.alias else {}),
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
    aliases: dict[str, dict[str, Any]] | None


class DriftService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway

    async def _live(
        self,
        access: FcAccess,
        function: Function,
        domains: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        live = await LiveReader(self.gateway).read(
            access, function.name, [function.applied_state], domains
        )
        return live.state if live is not None else None

    async def check(self, ref: FunctionRef) -> DriftResult:
        # Read FC outside any transaction, then record in a short one.
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            managed = await AliasRepository(session).of_function(function.id)
        access = access_for(self.box, function.account)
        live = await self._live(access, function)
        aliases = await self._aliases(access, function.name, bool(managed))
        async with self.db.write() as session:
            row = await FunctionRepository(session).get_for_update(function.id)
            if row is None:
                raise _removed(ref)
            result = await observe(session, row, live)
            if aliases is not None:
                locked = await AliasRepository(session).of_functions([row.id])
                await self._record_aliases(session, row, aliases, locked)
            return result

    async def _aliases(
        self, access: FcAccess, name: str, wanted: bool
    ) -> dict[str, dict[str, Any]] | None:
        """The function's aliases as FC routes them (None: not read, none are managed)."""
        if not wanted:
            return None
        try:
            listed = await self.gateway.list_aliases(access, name)
        except FcNotFound:  # the function itself is gone
            return {}
        return {str(a.get("aliasName")): alias_state(a) for a in listed}

    async def _record_aliases(
        self,
        session: AsyncSession,
        function: Function,
        live: dict[str, dict[str, Any]] | None,
        managed: dict[int, list[Alias]],
    ) -> None:
        """``managed``: the aliases of the functions being recorded, locked."""
        if live is None:
            return
        for alias in managed.get(function.id, []):
            if not alias.claim_held():  # a change in flight is not drift
                await record_alias_drift(session, function, alias, live.get(alias.name))

    async def check_all(self, concurrency: int) -> dict[str, Any]:
        """Read every function from FC, ``concurrency`` at a time, while one task records
        the results in batches: one transaction per batch instead of one per function."""
        async with self.db.read() as session:
            targets = await FunctionRepository(session).all_with_accounts()
            with_aliases = await AliasRepository(session).functions_with_aliases()
        accesses: dict[int, FcAccess] = {}
        for function in targets:
            if function.account_id not in accesses:
                accesses[function.account_id] = access_for(self.box, function.account)
        # Custom domains are per account: listed once each, not once per function.
        domains: dict[int, asyncio.Task[list[dict[str, Any]]]] = {}
        limit = asyncio.Semaphore(concurrency)
        checked: asyncio.Queue[_Checked | None] = asyncio.Queue()
        drifted: list[str] = []
        failed: dict[str, str] = {}

        def fail(ref: FunctionRef, error: DomainError) -> None:
            failed[str(ref)] = f"{error.code}: {error.detail}"
            log.warning("drift check of %s failed: %s", ref, error.code)

        async def read(function: Function) -> None:
            ref, access = function.ref, accesses[function.account_id]
            async with limit:
                try:
                    listing = domains.get(function.account_id)
                    if listing is None:
                        listing = domains[function.account_id] = asyncio.ensure_future(
                            self.gateway.list_custom_domains(access)
                        )
                    live = await self._live(access, function, await asyncio.shield(listing))
                    aliases = await self._aliases(access, ref.name, function.id in with_aliases)
                except DomainError as error:
                    fail(ref, error)
                    return
            checked.put_nowait(_Checked(function.id, ref, live, aliases))

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
            managed = await AliasRepository(session).of_functions(
                [c.function_id for c in batch if c.aliases is not None]
            )
            for c in batch:
                row = rows.get(c.function_id)
                if row is None:
                    fail(c.ref, _removed(c.ref))
                else:
                    if (await observe(session, row, c.live, events)).drifted:
                        drifted.append(str(c.ref))
                    await self._record_aliases(session, row, c.aliases, managed)

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
