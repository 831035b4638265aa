"""Publishing versions and routing aliases, each change audited and guarded like a deploy.

- A version is published from the function's applied state: while fcplane
  holds the function (so no deploy slips in), after checking that FC still runs
  exactly what fcplane applied — a version of a console edit would be a release
  nobody reviewed (409 ``drift_conflict``).
- An alias has revisions of its own: a change names its ``base_revision``
  (409 ``revision_conflict`` when another change came first) and is refused
  when the alias was changed in FC since (409 ``drift_conflict``, unless
  ``use-local``). A rollback restores the routing before the current one.

Every change emits ``version.published`` / ``alias.updated`` in the transaction
that records it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from service.accounts.service import access_for
from service.cloud.gateway import FcGateway
from service.drift.service import record_alias_drift, record_drift, resolve_drift
from service.functions import diff
from service.functions.live import LiveReader
from service.functions.paths import function_path
from service.functions.repository import FunctionRepository
from service.functions.service import existing
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import DRIFT_CONFLICT, REVISION_CONFLICT, Conflict, NotFound
from service.models import Alias, AliasRevision, Function, FunctionVersion
from service.models.base import utcnow
from service.models.drift import Resolution
from service.models.function import (
    DriftStatus,
    FunctionRef,
    Operation,
    claim_holder,
    operation_claim,
)
from service.models.release import AliasSource
from service.releases.repository import AliasRepository, VersionRepository
from service.releases.schemas import AliasBase, AliasPut
from service.releases.state import alias_state, alias_wire
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType


def _conflict(code: str, detail: str, **extra: Any) -> Conflict:
    error = Conflict(detail, **extra)
    error.code = code
    return error


def _changes(base: dict[str, Any] | None, other: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [c.as_dict() for c in diff.changes(base or {}, other or {})]


class ReleaseService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway, lease: timedelta) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway
        self.lease = lease

    # -- versions --------------------------------------------------------------

    async def publish(
        self, ref: FunctionRef, description: str, author: str | None
    ) -> FunctionVersion:
        claim = operation_claim(Operation.PUBLISH)
        async with self.db.write() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, ref)
            if function.head_revision == 0:
                raise Conflict(f"function '{ref}' was never deployed: there is nothing to publish")
            now = utcnow()
            if not await functions.claim(
                function.id, function.head_revision, claim, now, now + self.lease
            ):
                error = _conflict(
                    REVISION_CONFLICT,
                    f"function '{ref}' is held by {claim_holder(function.deploying_id or '')}; "
                    "publish once it has ended",
                    deploying=function.deploying_id,
                )
                error.headers["Retry-After"] = "2"
                raise error
        access = access_for(self.box, function.account)
        try:
            live = await LiveReader(self.gateway).read(access, ref.name, [function.applied_state])
            state = live.state if live is not None else None
            if state != function.applied_state:
                await self._refuse_drifted(function, state)
            published = await self.gateway.publish_version(access, ref.name, description)
        except BaseException:
            async with self.db.write() as session:
                await FunctionRepository(session).release(function.id, claim)
            raise
        version = FunctionVersion(
            function_id=function.id,
            version_id=str(published.body.get("versionId")),
            description=description,
            from_revision=function.head_revision,
            created_by=author,
        )
        async with self.db.write() as session:
            await VersionRepository(session).add(version)
            await FunctionRepository(session).release(function.id, claim)
            await emit(
                session,
                EventType.VERSION_PUBLISHED,
                ref,
                {
                    "version_id": version.version_id,
                    "description": description,
                    "from_revision": version.from_revision,
                },
                actor=author,
                resource=f"{function_path(ref)}/versions",
            )
        return version

    async def _refuse_drifted(self, function: Function, live: dict[str, Any] | None) -> None:
        """Record the drift and refuse (the caller releases the claim)."""
        async with self.db.write() as session:
            row = await FunctionRepository(session).get_for_update(function.id)
            if row is not None:
                await record_drift(session, row, live)
        raise _conflict(
            DRIFT_CONFLICT,
            f"function '{function.ref}' differs in FC from what fcplane applied: a version "
            "now would publish a change nobody deployed; deploy (or use-remote) first",
            remote_changes=_changes(function.applied_state, live),
        )

    async def versions(self, ref: FunctionRef) -> list[FunctionVersion]:
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            return await VersionRepository(session).of_function(function.id)

    async def version(self, ref: FunctionRef, version_id: str) -> FunctionVersion:
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            found = await VersionRepository(session).by_id(function.id, version_id)
        if found is None:
            raise NotFound(f"function '{ref}' has no version {version_id} published by fcplane")
        return found

    # -- aliases ---------------------------------------------------------------

    async def aliases(self, ref: FunctionRef) -> list[Alias]:
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            return await AliasRepository(session).of_function(function.id)

    async def alias(self, ref: FunctionRef, name: str) -> Alias:
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            return await _alias(AliasRepository(session), function, name)

    async def revisions(self, ref: FunctionRef, name: str) -> list[AliasRevision]:
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            aliases = AliasRepository(session)
            return await aliases.revisions((await _alias(aliases, function, name)).id)

    async def put_alias(
        self, ref: FunctionRef, name: str, request: AliasPut, author: str | None
    ) -> Alias:
        local = alias_state(
            {
                "versionId": request.version_id,
                "additionalVersionWeight": request.additional_version_weight,
                "description": request.description,
            }
        )
        return await self._change(
            ref, name, request, local, author, AliasSource.UPDATE, request.message
        )

    async def delete_alias(
        self, ref: FunctionRef, name: str, request: AliasBase, author: str | None
    ) -> Alias:
        return await self._change(
            ref, name, request, None, author, AliasSource.DELETE, request.message
        )

    async def rollback_alias(
        self, ref: FunctionRef, name: str, request: AliasBase, author: str | None
    ) -> Alias:
        """Route the alias as it was before its current revision."""
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            aliases = AliasRepository(session)
            alias = await _alias(aliases, function, name)
            previous = await aliases.revision(alias.id, alias.head - 1) if alias.head > 1 else None
        if previous is None:
            raise Conflict(f"alias '{name}' of '{ref}' has no earlier routing to roll back to")
        message = request.message or f"rollback to alias revision {previous.number}"
        return await self._change(
            ref, name, request, previous.state, author, AliasSource.ROLLBACK, message
        )

    async def _change(
        self,
        ref: FunctionRef,
        name: str,
        request: AliasBase | AliasPut,
        local: dict[str, Any] | None,
        author: str | None,
        source: AliasSource,
        message: str | None,
    ) -> Alias:
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            alias = await AliasRepository(session).by_name(function.id, name)
        head = alias.head if alias is not None else 0
        applied = alias.applied_state if alias is not None else None
        if request.base_revision != head:
            raise _conflict(
                REVISION_CONFLICT,
                f"alias '{name}' is at revision {head}, not {request.base_revision}",
                head_revision=head,
                local_changes=_changes(applied, local),
            )
        access = access_for(self.box, function.account)
        body = await self.gateway.get_alias(access, ref.name, name)
        live = alias_state(body) if body is not None else None
        if live != applied and request.strategy == "fail":
            await self._record_drift(function, name, live)
            raise _conflict(
                DRIFT_CONFLICT,
                f"alias '{name}' was changed in FC since fcplane set it; retry with use-local "
                "to overwrite",
                head_revision=head,
                local_changes=_changes(applied, local),
                remote_changes=_changes(applied, live),
            )
        claim = str(uuid.uuid4())
        alias_id = await self._claim(function, name, head, claim, author)
        try:
            state = await self._push(access, ref.name, name, local, live)
        except BaseException:
            async with self.db.write() as session:
                await AliasRepository(session).release(alias_id, claim)
            raise
        return await self._record(
            function, alias_id, claim, state, source, message, author, overwritten=live
        )

    async def _record_drift(
        self, function: Function, name: str, live: dict[str, Any] | None
    ) -> None:
        async with self.db.write() as session:
            alias = await AliasRepository(session).by_name(function.id, name)
            if alias is not None:
                await record_alias_drift(session, function, alias, live)

    async def _claim(
        self, function: Function, name: str, head: int, claim: str, author: str | None
    ) -> int:
        now = utcnow()
        async with self.db.write() as session:
            aliases = AliasRepository(session)
            alias = await aliases.by_name(function.id, name)
            if alias is None:
                alias = await aliases.add(
                    Alias(function_id=function.id, name=name, head=0, created_by=author)
                )
            if not await aliases.claim(alias.id, head, claim, now, now + self.lease):
                raise _conflict(
                    REVISION_CONFLICT,
                    f"alias '{name}' is being changed by another request; re-read it and retry",
                )
            return alias.id

    async def _push(
        self,
        access: Any,
        function: str,
        name: str,
        local: dict[str, Any] | None,
        live: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        """Make FC route ``name`` as ``local`` (None: no alias); FC's read-back."""
        if local is None:
            if live is not None:
                await self.gateway.delete_alias(access, function, name)
            return None
        wire = alias_wire(name, local)
        if live is None:
            await self.gateway.create_alias(access, function, wire)
        else:
            wire.pop("aliasName")
            await self.gateway.update_alias(access, function, name, wire)
        body = await self.gateway.get_alias(access, function, name)
        return alias_state(body) if body is not None else None

    async def _record(
        self,
        function: Function,
        alias_id: int,
        claim: str,
        state: dict[str, Any] | None,
        source: AliasSource,
        message: str | None,
        author: str | None,
        *,
        overwritten: dict[str, Any] | None,
    ) -> Alias:
        async with self.db.write() as session:
            aliases = AliasRepository(session)
            alias = await aliases.get_for_update(alias_id)
            assert alias is not None  # the claim keeps it
            before = alias.applied_state
            number = alias.head + 1
            await aliases.add(
                AliasRevision(
                    alias_id=alias.id,
                    number=number,
                    state=state,
                    source=source,
                    message=message,
                    created_by=author,
                )
            )
            await aliases.record(
                alias,
                head=number,
                applied_state=state,
                drift_status=DriftStatus.IN_SYNC,
                claim_id=None,
                claim_until=None,
            )
            await resolve_drift(session, function, Resolution.DEPLOY, None, alias.name)
            await emit(
                session,
                EventType.ALIAS_UPDATED,
                function.ref,
                {
                    "alias": alias.name,
                    "revision": number,
                    "source": source,
                    "message": message,
                    "deleted": state is None,
                    "changes": _changes(before, state),
                    "overwritten_changes": _changes(before, overwritten)
                    if overwritten != before
                    else [],
                },
                actor=author,
                resource=f"{function_path(function.ref)}/aliases/{alias.name}",
            )
        return alias


async def _alias(aliases: AliasRepository, function: Function, name: str) -> Alias:
    alias = await aliases.by_name(function.id, name)
    if alias is None:
        raise NotFound(
            f"function '{function.ref}' has no alias '{name}' managed by fcplane", alias=name
        )
    return alias
