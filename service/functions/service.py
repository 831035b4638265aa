"""Registering, adopting, reading and removing managed functions; revisions and diffs.

Each method reads or writes the database in short blocks and calls FC between
them, never inside one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from service.accounts.repository import AccountRepository
from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.functions import diff
from service.functions.live import LiveReader
from service.functions.repository import FunctionRepository
from service.functions.schemas import DiffOut
from service.functions.state import CODE, config_of
from service.functions.writer import FcWriter
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import AlreadyExists, Conflict, DomainError, InvalidInput, NotFound
from service.models import Function, Revision
from service.models.base import utcnow
from service.models.function import (
    DriftStatus,
    FunctionRef,
    Operation,
    claim_holder,
    operation_claim,
)
from service.models.revision import RevisionSource

# How long removing a function may hold it while FC deletes it.
REMOVE_LEASE = timedelta(minutes=5)


def revision_state(revision: Revision) -> dict[str, Any]:
    return {**revision.config, CODE: revision.code_checksum}


def not_managed(ref: FunctionRef) -> NotFound:
    return NotFound(
        f"function '{ref.name}' in account '{ref.account}' is not managed by fcplane",
        account=ref.account,
        function=ref.name,
    )


async def existing(functions: FunctionRepository, ref: FunctionRef) -> Function:
    """The function (with its account), inside the caller's block."""
    function = await functions.by_ref(ref)
    if function is None:
        raise not_managed(ref)
    return function


class FunctionService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway

    async def get(self, ref: FunctionRef) -> Function:
        async with self.db.read() as session:
            return await existing(FunctionRepository(session), ref)

    async def page(
        self, account: str | None, after: FunctionRef | None, limit: int
    ) -> list[Function]:
        async with self.db.read() as session:
            return await FunctionRepository(session).page(account, after, limit)

    async def register(self, ref: FunctionRef, adopt: bool, author: str | None) -> Function:
        async with self.db.read() as session:
            account = await AccountRepository(session).existing(ref.account)
            if await FunctionRepository(session).exists(account.id, ref.name):
                raise _already_managed(ref)
        function = Function(
            name=ref.name,
            account_id=account.id,
            created_by=author,
            head_revision=0,
            drift_status=DriftStatus.UNKNOWN,
        )
        revision: Revision | None = None
        if adopt:
            live = await LiveReader(self.gateway).read(access_for(self.box, account), ref.name)
            if live is None:
                raise InvalidInput(
                    f"adopt: function '{ref.name}' does not exist in account '{ref.account}'",
                    field="adopt",
                )
            state = live.state
            now = utcnow()
            function.head_revision = 1
            function.applied_state = state
            function.applied_at = function.drift_checked_at = now
            function.drift_status = DriftStatus.IN_SYNC
            revision = Revision(
                number=1,
                config=config_of(state),
                code_checksum=state[CODE],
                source=RevisionSource.ADOPT,
                message="adopted the live function",
                created_by=author,
            )
        try:
            async with self.db.write() as session:
                functions = FunctionRepository(session)
                await functions.add(function)
                if revision is not None:
                    revision.function_id = function.id
                    revision.code_sha256 = await functions.sha256_by_checksum(
                        revision.code_checksum
                    )
                    await functions.add(revision)
        except IntegrityError:  # registered concurrently, between the check and the write
            raise _already_managed(ref) from None
        function.account = account
        return function

    async def remove(self, ref: FunctionRef, base_revision: int, delete_remote: bool) -> None:
        """Stop managing ``ref``; with ``delete_remote``, delete it from FC first, its
        sub-resources before it (FC refuses to delete a function that has triggers).

        While FC deletes it, the function is claimed like a deploy claims it, so
        no deploy can slip in between the base-revision check and the removal.
        """
        claim = operation_claim(Operation.REMOVE)
        async with self.db.write() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, ref)
            _check_head(function, base_revision)
            now = utcnow()
            if not await functions.claim(
                function.id, base_revision, claim, now, now + REMOVE_LEASE
            ):
                raise Conflict(
                    f"function '{ref}' is held by {claim_holder(function.deploying_id or '')}; "
                    "try again once it has ended",
                    deploying=function.deploying_id,
                )
            access = access_for(self.box, function.account)
        try:
            if delete_remote:
                await self._delete_remote(access, ref.name, function.applied_state)
        except BaseException:
            async with self.db.write() as session:
                await FunctionRepository(session).release(function.id, claim)
            raise
        async with self.db.write() as session:
            functions = FunctionRepository(session)
            row = await functions.get_for_update(function.id)
            if row is not None and row.deploying_id == claim:
                await functions.delete(row)

    async def _delete_remote(
        self, access: FcAccess, name: str, applied: dict[str, Any] | None
    ) -> None:
        live = await LiveReader(self.gateway).read(access, name, [applied])
        if live is None:
            return  # already gone: the goal is reached
        writer = FcWriter(self.gateway, access, name)
        try:
            await writer.subresources({}, live.state, live)
            try:
                await self.gateway.delete_function(access, name)
            except FcNotFound:
                pass  # deleted meanwhile
        except DomainError as error:
            if writer.applied:
                error.extra["fc_applied"] = list(writer.applied)
                error.detail = (
                    f"{error.detail} (after FC had accepted {', '.join(writer.applied)}; the "
                    "function is still managed: remove it again to finish)"
                )
            raise

    async def revisions(self, ref: FunctionRef, after: int | None, limit: int) -> list[Revision]:
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, ref)
            return await functions.revisions(function.id, after, limit)

    async def revision(self, ref: FunctionRef, number: int) -> Revision:
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, ref)
            return await _revision(functions, function, number)

    async def diff(self, ref: FunctionRef, from_number: int, to_number: int) -> DiffOut:
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, ref)
            old = revision_state(await _revision(functions, function, from_number))
            new = revision_state(await _revision(functions, function, to_number))
        found = diff.changes(old, new)
        return DiffOut(
            account=ref.account,
            function=ref.name,
            from_revision=from_number,
            to_revision=to_number,
            changes=[c.as_dict() for c in found],
            patch=[c.as_patch() for c in found],
            text=diff.render(found),
        )


async def _revision(functions: FunctionRepository, function: Function, number: int) -> Revision:
    revision = await functions.revision(function.id, number)
    if revision is None:
        raise NotFound(f"function '{function.ref}' has no revision {number}", revision=number)
    return revision


def _check_head(function: Function, base_revision: int) -> None:
    if base_revision != function.head_revision:
        raise Conflict(
            f"function '{function.ref}' is at revision {function.head_revision}, "
            f"not {base_revision}",
            head_revision=function.head_revision,
        )


def _already_managed(ref: FunctionRef) -> AlreadyExists:
    return AlreadyExists(
        f"function '{ref.name}' is already managed in account '{ref.account}'",
        account=ref.account,
        function=ref.name,
    )
