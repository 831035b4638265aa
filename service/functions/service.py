"""Registering, adopting, reading and removing managed functions; revisions and diffs."""

from __future__ import annotations

from typing import Any

from service.accounts.repository import AccountRepository
from service.accounts.service import AccountService
from service.cloud.access import FcAccess, fc_access
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.functions import diff
from service.functions.repository import FunctionRepository
from service.functions.schemas import AppliedState, DiffOut, FunctionOut, RevisionOut
from service.functions.state import CODE, config_of, live_state
from service.kit.crypto import SecretBox
from service.kit.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from service.models import Account, Function, Revision
from service.models.base import utcnow


def present(function: Function, account: Account) -> FunctionOut:
    applied = None
    if function.applied_state is not None:
        applied = AppliedState(
            revision=function.head_revision,
            config=config_of(function.applied_state),
            code_checksum=function.applied_state.get(CODE),
            applied_at=function.applied_at,
        )
    return FunctionOut(
        name=function.name,
        account=account.alias,
        head_revision=function.head_revision,
        applied=applied,
        drift_status=function.drift_status,
        drift_checked_at=function.drift_checked_at,
        deploying=function.deploying_id
        if function.deploy_lease_until and function.deploy_lease_until > utcnow()
        else None,
        created_at=function.created_at,
        created_by=function.created_by,
    )


def present_revision(revision: Revision) -> RevisionOut:
    return RevisionOut(
        number=revision.number,
        config=revision.config,
        code_sha256=revision.code_sha256,
        code_checksum=revision.code_checksum,
        source=revision.source,
        message=revision.message,
        created_at=revision.created_at,
        created_by=revision.created_by,
    )


def revision_state(revision: Revision) -> dict[str, Any]:
    return {**revision.config, CODE: revision.code_checksum}


class FunctionService:
    def __init__(self, functions: FunctionRepository, box: SecretBox, gateway: FcGateway) -> None:
        self.functions = functions
        self.accounts = AccountService(AccountRepository(functions.session), box)
        self.gateway = gateway

    async def get(self, name: str) -> tuple[Function, Account]:
        found = await self.functions.by_name_with_account(name)
        if found is None:
            raise NotFound(f"function '{name}' is not managed by fcplane", function=name)
        return found

    def access(self, account: Account) -> FcAccess:
        return fc_access(account, self.accounts.credentials(account))

    async def _account(self, alias: str | None) -> Account:
        if alias is None:
            account = await self.accounts.accounts.default()
            if account is None:
                raise InvalidInput(
                    "account: no account given and there is no default account", field="account"
                )
            return account
        account = await self.accounts.accounts.by_alias(alias)
        if account is None:
            raise InvalidInput(f"account: no account with alias '{alias}'", field="account")
        return account

    async def register(
        self, name: str, alias: str | None, adopt: bool, author: str | None
    ) -> tuple[Function, Account]:
        if await self.functions.by_name(name) is not None:
            raise AlreadyExists(f"function '{name}' is already managed", function=name)
        account = await self._account(alias)
        function = Function(name=name, account_id=account.id, created_by=author, head_revision=0)
        if adopt:
            try:
                live = await self.gateway.get_function(self.access(account), name)
            except FcNotFound:
                raise InvalidInput(
                    f"adopt: function '{name}' does not exist in account '{account.alias}'",
                    field="adopt",
                ) from None
            state = live_state(live.body)
            function.head_revision = 1
            function.applied_state = state
            function.applied_at = utcnow()
            function.drift_status = "in_sync"
            function.drift_checked_at = utcnow()
            await self.functions.add(function)
            await self.functions.add_revision(
                Revision(
                    function_id=function.id,
                    number=1,
                    config=config_of(state),
                    code_checksum=state[CODE],
                    code_sha256=await self._known_sha256(state[CODE]),
                    source="adopt",
                    message="adopted the live function",
                    created_by=author,
                )
            )
        else:
            await self.functions.add(function)
        return function, account

    async def _known_sha256(self, checksum: str | None) -> str | None:
        if checksum is None:
            return None
        package = await self.functions.package_by_checksum(checksum)
        return package.sha256 if package else None

    async def remove(self, name: str, base_revision: int | None, delete_remote: bool) -> None:
        function, account = await self.get(name)
        if base_revision is None:
            raise InvalidInput(
                "base_revision: required to remove a function", field="base_revision"
            )
        if base_revision != function.head_revision:
            raise Conflict(
                f"function '{name}' is at revision {function.head_revision}, not {base_revision}",
                head_revision=function.head_revision,
            )
        if delete_remote:
            try:
                await self.gateway.delete_function(self.access(account), name)
            except FcNotFound:
                pass  # already gone: the goal is reached
        await self.functions.delete(function)

    async def revision(self, name: str, number: int) -> Revision:
        function, _ = await self.get(name)
        revision = await self.functions.revision(function.id, number)
        if revision is None:
            raise NotFound(f"function '{name}' has no revision {number}", revision=number)
        return revision

    async def diff(self, name: str, from_number: int, to_number: int) -> DiffOut:
        old = revision_state(await self.revision(name, from_number))
        new = revision_state(await self.revision(name, to_number))
        found = diff.changes(old, new)
        return DiffOut(
            function=name,
            from_revision=from_number,
            to_revision=to_number,
            changes=[c.as_dict() for c in found],
            patch=[c.as_patch() for c in found],
            text=diff.render(found),
        )
