from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select, update

from service.kit.errors import NotFound
from service.kit.repository import Repository
from service.models import Account, Function


class AccountSummary(NamedTuple):
    """What a list shows of an account: no secrets, not an ORM object."""

    alias: str
    account_id: str
    region: str
    endpoint: str
    access_key_id: str
    has_security_token: bool
    is_default: bool
    created_at: datetime
    updated_at: datetime


# Lists are read as plain rows of the listed columns, not as entities: loading
# entities into the session's identity map cost more than the query itself.
# Built once, as constructing a statement costs more than running a cached one.
_SUMMARIES = (
    select(
        Account.alias,
        Account.account_id,
        Account.region,
        Account.endpoint,
        Account.access_key_id,
        Account.security_token_sealed.is_not(None).label("has_security_token"),
        Account.is_default,
        Account.created_at,
        Account.updated_at,
    )
    .order_by(Account.alias)
    .limit(bindparam("limit"))
)
_SUMMARIES_AFTER = _SUMMARIES.where(Account.alias > bindparam("after"))


class AccountRepository(Repository[Account]):
    model = Account

    async def by_alias(self, alias: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.alias == alias))

    async def alias_taken(self, alias: str) -> bool:
        return await self.by_alias(alias) is not None

    async def existing(self, alias: str) -> Account:
        """The account, or 404 naming the alias."""
        account = await self.by_alias(alias)
        if account is None:
            raise NotFound(f"account '{alias}' does not exist", alias=alias)
        return account

    async def page(self, after: str | None, limit: int) -> list[AccountSummary]:
        params: dict[str, object] = {"limit": limit}
        if after is None:
            query = _SUMMARIES
        else:
            query, params["after"] = _SUMMARIES_AFTER, after
        # Through the session's connection: the Core path, as no entity is loaded.
        connection = await self.session.connection()
        return [AccountSummary(*row) for row in await connection.execute(query, params)]

    async def default(self) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.is_default.is_(True)))

    async def has_default(self) -> bool:
        found = await self.session.scalar(select(Account.id).where(Account.is_default.is_(True)))
        return found is not None

    async def clear_default(self) -> None:
        await self.session.execute(
            update(Account).where(Account.is_default.is_(True)).values(is_default=False)
        )

    async def function_names(self, account: Account) -> list[str]:
        result = await self.session.scalars(
            select(Function.name).where(Function.account_id == account.id).order_by(Function.name)
        )
        return list(result.all())
