"""Registering, adopting, reading and removing managed functions; revisions and diffs.

Each method reads or writes the database in short blocks and calls FC between
them, never inside one.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from service.accounts.repository import AccountRepository
from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.functions import diff
from service.functions.repository import FunctionRepository
from service.functions.schemas import DiffOut
from service.functions.state import CODE, config_of, live_state
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from service.models import Account, Function, Revision
from service.models.base import utcnow
from service.models.function import DriftStatus
from service.models.revision import RevisionSource

# How long removing a function may hold it while FC deletes it.
REMOVE_LEASE = timedelta(minutes=5)


def revision_state(revision: Revision) -> dict[str, Any]:
    return {**revision.config, CODE: revision.code_checksum}


def not_managed(name: str) -> NotFound:
    return NotFound(f"function '{name}' is not managed by fcplane", function=name)


async def existing(functions: FunctionRepository, name: str) -> Function:
    """The function (with its account), inside the caller's block."""
    function = await functions.by_name(name)
    if function is None:
        raise not_managed(name)
    return function


class FunctionService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway

    async def get(self, name: str) -> Function:
        async with self.db.read() as session:
            return await existing(FunctionRepository(session), name)

    async def target(self, name: str) -> tuple[Function, FcAccess]:
        """The function and how to reach its account."""
        function = await self.get(name)
        return function, access_for(self.box, function.account)

    async def page(self, after: str | None, limit: int) -> list[Function]:
        async with self.db.read() as session:
            return await FunctionRepository(session).page(after, limit)

    async def register(
        self, name: str, alias: str | None, adopt: bool, author: str | None
    ) -> Function:
        async with self.db.read() as session:
            if await FunctionRepository(session).id_by_name(name) is not None:
                raise _already_managed(name)
            account = await _account(AccountRepository(session), alias)
        function = Function(
            name=name,
            account_id=account.id,
            created_by=author,
            head_revision=0,
            drift_status=DriftStatus.UNKNOWN,
        )
        revision: Revision | None = None
        if adopt:
            try:
                live = await self.gateway.get_function(access_for(self.box, account), name)
            except FcNotFound:
                raise InvalidInput(
                    f"adopt: function '{name}' does not exist in account '{account.alias}'",
                    field="adopt",
                ) from None
            state = live_state(live.body)
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
                    await functions.add_revision(revision)
        except IntegrityError:  # registered concurrently, between the check and the write
            raise _already_managed(name) from None
        function.account = account
        return function

    async def remove(self, name: str, base_revision: int, delete_remote: bool) -> None:
        """Stop managing ``name``; with ``delete_remote``, delete it from FC first.

        While FC deletes it, the function is claimed like a deploy claims it, so
        no deploy can slip in between the base-revision check and the removal.
        """
        claim = str(uuid.uuid4())
        async with self.db.write() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, name)
            _check_head(function, base_revision)
            now = utcnow()
            if not await functions.claim(
                function.id, base_revision, claim, now, now + REMOVE_LEASE
            ):
                raise Conflict(
                    f"function '{name}' is being deployed; try again when the deploy has ended",
                    deploying=function.deploying_id,
                )
            access = access_for(self.box, function.account)
        try:
            if delete_remote:
                try:
                    await self.gateway.delete_function(access, name)
                except FcNotFound:
                    pass  # already gone: the goal is reached
        except BaseException:
            async with self.db.write() as session:
                await FunctionRepository(session).release(function.id, claim)
            raise
        async with self.db.write() as session:
            functions = FunctionRepository(session)
            row = await functions.get_for_update(function.id)
            if row is not None and row.deploying_id == claim:
                await functions.delete(row)

    async def revisions(self, name: str, after: int | None, limit: int) -> list[Revision]:
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, name)
            return await functions.revisions(function.id, after, limit)

    async def revision(self, name: str, number: int) -> Revision:
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, name)
            return await _revision(functions, function, number)

    async def diff(self, name: str, from_number: int, to_number: int) -> DiffOut:
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            function = await existing(functions, name)
            old = revision_state(await _revision(functions, function, from_number))
            new = revision_state(await _revision(functions, function, to_number))
        found = diff.changes(old, new)
        return DiffOut(
            function=name,
            from_revision=from_number,
            to_revision=to_number,
            changes=[c.as_dict() for c in found],
            patch=[c.as_patch() for c in found],
            text=diff.render(found),
        )


async def _revision(functions: FunctionRepository, function: Function, number: int) -> Revision:
    revision = await functions.revision(function.id, number)
    if revision is None:
        raise NotFound(f"function '{function.name}' has no revision {number}", revision=number)
    return revision


async def _account(accounts: AccountRepository, alias: str | None) -> Account:
    if alias is None:
        account = await accounts.default()
        if account is None:
            raise InvalidInput(
                "account: no account given and there is no default account", field="account"
            )
        return account
    account = await accounts.by_alias(alias)
    if account is None:
        raise InvalidInput(f"account: no account with alias '{alias}'", field="account")
    return account


def _check_head(function: Function, base_revision: int) -> None:
    if base_revision != function.head_revision:
        raise Conflict(
            f"function '{function.name}' is at revision {function.head_revision}, "
            f"not {base_revision}",
            head_revision=function.head_revision,
        )


def _already_managed(name: str) -> AlreadyExists:
    return AlreadyExists(f"function '{name}' is already managed", function=name)
