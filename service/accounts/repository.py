from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Account, Function


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, account: Account) -> None:
        self.session.add(account)
        await self.session.flush()

    async def by_alias(self, alias: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.alias == alias))

    async def alias_taken(self, alias: str) -> bool:
        return await self.by_alias(alias) is not None

    async def page(self, after: str | None, limit: int) -> list[Account]:
        query = select(Account).order_by(Account.alias).limit(limit)
        if after is not None:
            query = query.where(Account.alias > after)
        return list((await self.session.scalars(query)).all())

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

    async def delete(self, account: Account) -> None:
        await self.session.delete(account)
        await self.session.flush()
